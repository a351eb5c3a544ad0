export * from './types.js';
export { allocate, orderServices } from './allocate.js';
export { statusAfter } from './status-after.js';
export {
  ALLOCATOR_ANNOTATIONS,
  ANNOTATION_IPV4_POOLS,
  ANNOTATION_IPV6_POOLS,
  ANNOTATION_LOAD_BALANCER_IPS,
  ANNOTATION_SHARING_KEY,
  readRequest,
  type LbRequest,
} from './request.js';
export { sharingProblem, type Sharer, type SharingCode } from './sharing.js';
export { OWNERSHIP_CONDITION_TYPE, ownershipCondition, readOwnership, type OwnershipCondition } from './ownership.js';
export { lbServiceFromObject } from './service-input.js';

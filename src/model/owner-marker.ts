/**
 * svcbgp's ownership marker: one BGP large community (RFC 8092) on every path it adds,
 *
 *     <localAS>:7376:1        e.g. 64512:7376:1   (7376 = 0x73 0x76 = "sv" in ASCII, 1 = "svcbgp path")
 *
 * by which a restarted agent recognises the paths it may adopt and delete (src/agent/ownership.ts). The global admin
 * part (the AS) is not compared, so an AS number change does not orphan paths. It lives in the model because the
 * configuration (a Service allow-list must never admit it) and the route rules need it as much as the agent.
 */
export const OWNER_LOCAL_DATA1 = 7376;
export const OWNER_LOCAL_DATA2 = 1;

export function ownerCommunity(localAs: number): string {
  return `${localAs}:${OWNER_LOCAL_DATA1}:${OWNER_LOCAL_DATA2}`;
}

/** True when a large-community string is an svcbgp ownership marker (any global admin). */
export function isOwnerCommunity(large: string): boolean {
  const parts = large.split(':');
  return parts.length === 3 && Number(parts[1]) === OWNER_LOCAL_DATA1 && Number(parts[2]) === OWNER_LOCAL_DATA2;
}

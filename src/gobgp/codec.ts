/**
 * The seam between callers and a gobgpd API version. A codec turns our models (Route, Peer, GlobalConfig)
 * into the request objects of one wire API and the responses back into our models; the transport in
 * client.ts only moves those objects over gRPC. Two implementations: src/gobgp/v3/codec.ts (gobgpd 3.x) and
 * src/gobgp/v4/codec.ts (gobgpd 4.x), chosen in api-version.ts; no caller changes.
 *
 * Wire objects are plain JS objects in @grpc/proto-loader's representation (keepCase, enums as strings,
 * 64-bit ints as numbers, bytes as Buffer, google.protobuf.Any as {type_url, value}).
 */
import type { Family, Route } from '../model/route.js';
import type { Peer } from '../model/peer.js';
import type { ApiVersion, GlobalConfig, PathTarget, Neighbor, PeerWriteOptions, RibPath, StopOptions, WatchEvent, WatchOptions } from './types.js';

/** A request or response message as proto-loader handles it. */
export type WireMessage = Record<string, unknown>;

export interface WireCodec {
  readonly version: ApiVersion;
  /** Directory and file names of the protos that define the service (loaded by proto-loader). */
  readonly protoDir: string;
  readonly protoFiles: readonly string[];
  /** Fully qualified gRPC service name, e.g. "apipb.GobgpApi". */
  readonly serviceName: string;

  startBgpRequest(global: GlobalConfig): WireMessage;
  /** Throws GobgpRequestError for an option the API version cannot express. */
  stopBgpRequest(options: StopOptions): WireMessage;
  /** undefined when gobgpd has not been started (AS 0). */
  globalFromGetBgpResponse(response: WireMessage): GlobalConfig | undefined;

  addPeerRequest(peer: Peer, options: PeerWriteOptions): WireMessage;
  updatePeerRequest(peer: Peer): WireMessage;
  needsSoftResetIn(response: WireMessage): boolean;
  deletePeerRequest(address: string): WireMessage;
  listPeerRequest(address?: string): WireMessage;
  peerFromListPeerResponse(response: WireMessage): Neighbor | undefined;

  addPathRequest(route: Route): WireMessage;
  uuidFromAddPathResponse(response: WireMessage): string;
  /** Throws GobgpRequestError rather than build a request with neither path nor uuid. */
  deletePathRequest(target: PathTarget): WireMessage;
  addPathStreamRequest(routes: readonly Route[], withdraw: boolean): WireMessage;
  listPathRequest(family: Family): WireMessage;
  pathsFromListPathResponse(response: WireMessage): RibPath[];

  watchEventRequest(options: WatchOptions): WireMessage;
  eventFromWatchEventResponse(response: WireMessage): WatchEvent | undefined;
}

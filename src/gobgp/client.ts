/**
 * The transport half of the GoBGP client: promise-based gRPC calls over @grpc/grpc-js with a deadline
 * per call and errors that name the RPC and its subject. What goes into a request and comes out of a
 * response is the codec's business (src/gobgp/codec.ts); this file never looks inside wire messages.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Family, Route } from '../model/route.js';
import type { Peer } from '../model/peer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { sortByPrefix } from '../config/net.js';
import { errorText } from '../text/error.js';
import { parseGobgpAddress } from './address.js';
import { createCodec, DEFAULT_API_CHOICE, detectApiVersion, isNoAnswer } from './api-version.js';
import type { WireCodec, WireMessage } from './codec.js';
import { GobgpApiMismatchError, GobgpError } from './errors.js';
import type {
  ApiChoice,
  ApiVersion,
  BulkOptions,
  ConnectOptions,
  GlobalConfig,
  GobgpClient,
  Neighbor,
  PeerWriteOptions,
  RibPath,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './types.js';

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_BATCH_SIZE = 500;

type Method = grpc.MethodDefinition<WireMessage, WireMessage>;

export interface ClientOptions extends ConnectOptions {
  logger?: Logger;
  /** Which wire API to speak (default `auto`: probe gobgpd, see api-version.ts). */
  api?: ApiChoice;
  /** Called each time the API in use is decided: first contact, and again after gobgpd came back as another version. */
  onApiVersion?: (version: ApiVersion, how: 'detected' | 'configured') => void;
}

/** Connects lazily: the first call (or waitForReady) opens the channel and, with `auto`, detects the API. */
export function connectGobgp(address: string, options: ClientOptions = {}): GobgpClient & { waitForReady(timeoutMs: number): Promise<void> } {
  return new VersionedGobgpClient(address, options.api ?? DEFAULT_API_CHOICE, options);
}

/** One wire API version over one channel: every request and response goes through its codec. */
class GrpcGobgpClient implements GobgpClient {
  readonly apiVersion: ApiVersion;
  private readonly client: grpc.Client;
  private readonly methods: Map<string, Method>;
  private readonly deadlineMs: number;
  private readonly log: Logger;

  constructor(
    readonly address: string,
    private readonly codec: WireCodec,
    options: ClientOptions,
  ) {
    this.apiVersion = codec.version;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.log = options.logger ?? silentLogger();
    const definition = protoLoader.loadSync([...codec.protoFiles], {
      includeDirs: [codec.protoDir],
      keepCase: true,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
    });
    const service = definition[codec.serviceName] as grpc.ServiceDefinition | undefined;
    if (!service) throw new Error(`service ${codec.serviceName} not found in ${codec.protoFiles.join(', ')}`);
    this.methods = new Map(Object.entries(service) as [string, Method][]);
    const Ctor = grpc.makeGenericClientConstructor(service, codec.serviceName);
    this.client = new Ctor(parseGobgpAddress(address), grpc.credentials.createInsecure(), {
      // gobgpd ListPath/ListPeer messages can be large with many paths; allow 64 MiB.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private method(rpc: string): Method {
    const m = this.methods.get(rpc);
    if (!m) throw new Error(`RPC ${rpc} is not in our ${this.codec.version} protos`);
    return m;
  }

  private deadline(factor = 1): Date {
    return new Date(Date.now() + this.deadlineMs * factor);
  }

  private wrap(rpc: string, subject: string | undefined, err: unknown): GobgpError {
    const e = err as Partial<grpc.ServiceError>;
    const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
    const details = e.details || errorText(err);
    return new GobgpError(rpc, subject, code, details, { cause: err });
  }

  private unary(rpc: string, subject: string | undefined, request: WireMessage): Promise<WireMessage> {
    const m = this.method(rpc);
    this.log.debug('gobgp call', { rpc, subject });
    return new Promise((resolve, reject) => {
      try {
        this.client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          request,
          new grpc.Metadata(),
          { deadline: this.deadline() },
          (err, response) => (err ? reject(this.wrap(rpc, subject, err)) : resolve(response ?? {})),
        );
      } catch (err) {
        reject(this.wrap(rpc, subject, err));
      }
    });
  }

  private serverStream(rpc: string, subject: string | undefined, request: WireMessage): Promise<WireMessage[]> {
    const m = this.method(rpc);
    this.log.debug('gobgp call', { rpc, subject });
    return new Promise((resolve, reject) => {
      const out: WireMessage[] = [];
      try {
        const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, new grpc.Metadata(), {
          deadline: this.deadline(),
        });
        call.on('data', (msg: WireMessage) => out.push(msg));
        call.on('error', (err) => reject(this.wrap(rpc, subject, err)));
        call.on('end', () => resolve(out));
      } catch (err) {
        reject(this.wrap(rpc, subject, err));
      }
    });
  }

  /** A client stream of several messages; the deadline grows with the number of messages. */
  private clientStream(rpc: string, subject: string, messages: WireMessage[]): Promise<void> {
    const m = this.method(rpc);
    this.log.debug('gobgp call', { rpc, subject, messages: messages.length });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (!settled) {
          settled = true;
          reject(this.wrap(rpc, subject, err));
        }
      };
      try {
        const call = this.client.makeClientStreamRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          new grpc.Metadata(),
          { deadline: this.deadline(messages.length + 1) },
          (err) => {
            if (err) fail(err);
            else if (!settled) {
              settled = true;
              resolve();
            }
          },
        );
        call.on('error', fail);
        let i = 0;
        const pump = () => {
          while (i < messages.length) {
            if (!call.write(messages[i++])) {
              call.once('drain', pump);
              return;
            }
          }
          call.end();
        };
        pump();
      } catch (err) {
        fail(err);
      }
    });
  }

  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(new Date(Date.now() + timeoutMs), (err) =>
        err ? reject(new GobgpError('connect', this.address, grpc.status.UNAVAILABLE, err.message, { cause: err })) : resolve(),
      );
    });
  }

  // ---- global ---------------------------------------------------------------------------------

  async getGlobal(): Promise<GlobalConfig | undefined> {
    return this.codec.globalFromGetBgpResponse(await this.unary('GetBgp', undefined, {}));
  }

  async startBgp(global: GlobalConfig): Promise<void> {
    await this.unary('StartBgp', `AS ${global.asn} router-id ${global.routerId}`, this.codec.startBgpRequest(global));
  }

  // ---- peers ----------------------------------------------------------------------------------

  async listPeers(address?: string): Promise<Neighbor[]> {
    const responses = await this.serverStream('ListPeer', address, this.codec.listPeerRequest(address));
    return responses.map((r) => this.codec.peerFromListPeerResponse(r)).filter((p): p is Neighbor => p !== undefined);
  }

  async addPeer(peer: Peer, options: PeerWriteOptions = {}): Promise<void> {
    await this.unary('AddPeer', peer.address, this.codec.addPeerRequest(peer, options));
  }

  async updatePeer(peer: Peer): Promise<{ needsSoftResetIn: boolean }> {
    const response = await this.unary('UpdatePeer', peer.address, this.codec.updatePeerRequest(peer));
    return { needsSoftResetIn: this.codec.needsSoftResetIn(response) };
  }

  async deletePeer(address: string): Promise<void> {
    await this.unary('DeletePeer', address, this.codec.deletePeerRequest(address));
  }

  // ---- paths ----------------------------------------------------------------------------------

  async addPaths(routes: readonly Route[], options: BulkOptions = {}): Promise<void> {
    await this.bulk(routes, false, options);
  }

  async deletePaths(routes: readonly Route[], options: BulkOptions = {}): Promise<void> {
    await this.bulk(routes, true, options);
  }

  private async bulk(routes: readonly Route[], withdraw: boolean, options: BulkOptions): Promise<void> {
    if (routes.length === 0) return;
    const size = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const messages: WireMessage[] = [];
    for (let i = 0; i < routes.length; i += size) {
      messages.push(this.codec.addPathStreamRequest(routes.slice(i, i + size), withdraw));
    }
    const subject = `${withdraw ? 'withdraw' : 'add'} ${routes.length} paths`;
    await this.clientStream('AddPathStream', subject, messages);
  }

  async listPaths(family: Family): Promise<RibPath[]> {
    const responses = await this.serverStream('ListPath', family, this.codec.listPathRequest(family));
    // gobgpd 3.10 streams destinations in no stable order (even with sort_type PREFIX): sort here.
    return sortByPrefix(
      responses.flatMap((r) => this.codec.pathsFromListPathResponse(r)),
      (p) => p.route.prefix,
    );
  }

  // ---- events ---------------------------------------------------------------------------------

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void): WatchHandle {
    const m = this.method('WatchEvent');
    let closed = false;
    let call: grpc.ClientReadableStream<WireMessage> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      call = this.client.makeServerStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        this.codec.watchEventRequest(options),
        new grpc.Metadata(),
        {},
      );
      call.on('data', (msg: WireMessage) => {
        const event = this.codec.eventFromWatchEventResponse(msg);
        if (event) onEvent(event);
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (closed && err.code === grpc.status.CANCELLED) resolve();
        else reject(this.wrap('WatchEvent', undefined, err));
      });
      call.on('end', () => resolve());
    });
    // Callers that only close() never look at `done`: keep its rejection from being "unhandled".
    done.catch(() => undefined);
    return {
      done,
      close: () => {
        closed = true;
        call?.cancel();
      },
    };
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The client callers get: it speaks whichever API gobgpd serves (`auto`) or the configured one, and switches
 * when gobgpd changes. `auto` detects on the first call, and again on the first call after gobgpd did not answer
 * (it may come back as another version: a 3.x -> 4.x upgrade between restarts) or answered UNIMPLEMENTED (it is
 * another version now: the call was not executed, so it is resent once in the right API). A configured version
 * that gobgpd does not serve fails every call with a GobgpApiMismatchError that says what to set.
 */
class VersionedGobgpClient implements GobgpClient {
  /** One wire client per version, kept until close(): a switch must not cancel calls in flight on the other. */
  private readonly wires = new Map<ApiVersion, GrpcGobgpClient>();
  private current: ApiVersion | undefined;
  /** The version last in use, kept through an outage (current is cleared then, to re-detect). */
  private lastUsed: ApiVersion | undefined;
  private detecting: Promise<ApiVersion> | undefined;
  private readonly probeChannel: grpc.Client;
  private readonly deadlineMs: number;
  private readonly log: Logger;

  constructor(
    readonly address: string,
    private readonly choice: ApiChoice,
    private readonly options: ClientOptions,
  ) {
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.log = options.logger ?? silentLogger();
    this.probeChannel = new grpc.Client(parseGobgpAddress(address), grpc.credentials.createInsecure());
  }

  get apiVersion(): ApiVersion | undefined {
    return this.current;
  }

  private wire(version: ApiVersion): GrpcGobgpClient {
    let w = this.wires.get(version);
    if (!w) {
      w = new GrpcGobgpClient(this.address, createCodec(version), this.options);
      this.wires.set(version, w);
    }
    return w;
  }

  /** Switches to `version`; logs (and tells onApiVersion) only when it differs from the last one in use. */
  private use(version: ApiVersion): GrpcGobgpClient {
    if (this.current !== version) {
      const how = this.choice === 'auto' ? 'detected' : 'configured';
      if (this.lastUsed !== version) {
        this.log.info('gobgpd API version', { event: 'gobgp-api', api: version, how, previous: this.lastUsed, address: this.address });
        this.options.onApiVersion?.(version, how);
      } else {
        this.log.debug('gobgpd API version unchanged after an outage', { api: version, address: this.address });
      }
      this.current = version;
      this.lastUsed = version;
    }
    return this.wire(version);
  }

  /** Which API gobgpd serves right now (one probe at a time). */
  private detect(): Promise<ApiVersion> {
    this.detecting ??= detectApiVersion(this.probeChannel, this.deadlineMs).finally(() => {
      this.detecting = undefined;
    });
    return this.detecting;
  }

  /** The wire client of the current API; detecting it first names `rpc` in the error when gobgpd does not answer. */
  private async connect(rpc: string): Promise<GrpcGobgpClient> {
    if (this.current) return this.wire(this.current);
    if (this.choice !== 'auto') return this.use(this.choice);
    try {
      return this.use(await this.detect());
    } catch (err) {
      if (!(err instanceof GobgpError)) throw err;
      throw new GobgpError(rpc, undefined, err.code, `${err.details} (while detecting gobgpd's API version)`, { cause: err });
    }
  }

  /** Runs one call (`rpc`) in the current API, re-detecting as described above. */
  private async call<T>(rpc: string, fn: (c: GrpcGobgpClient) => Promise<T>): Promise<T> {
    const c = await this.connect(rpc);
    try {
      return await fn(c);
    } catch (err) {
      if (!(err instanceof GobgpError)) throw err;
      if (isNoAnswer(err.code) && this.choice === 'auto') this.current = undefined;
      if (!err.unimplemented) throw err;
      const served = await this.detect().catch(() => undefined);
      if (!served || served === c.apiVersion) throw err;
      if (this.choice !== 'auto') throw new GobgpApiMismatchError(err.rpc, this.choice, served, this.address, { cause: err });
      return fn(this.use(served));
    }
  }

  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.probeChannel.waitForReady(new Date(Date.now() + timeoutMs), (err) =>
        err ? reject(new GobgpError('connect', this.address, grpc.status.UNAVAILABLE, err.message, { cause: err })) : resolve(),
      );
    });
  }

  getGlobal(): Promise<GlobalConfig | undefined> {
    return this.call('GetBgp', (c) => c.getGlobal());
  }
  startBgp(global: GlobalConfig): Promise<void> {
    return this.call('StartBgp', (c) => c.startBgp(global));
  }
  listPeers(address?: string): Promise<Neighbor[]> {
    return this.call('ListPeer', (c) => c.listPeers(address));
  }
  addPeer(peer: Peer, options?: PeerWriteOptions): Promise<void> {
    return this.call('AddPeer', (c) => c.addPeer(peer, options));
  }
  updatePeer(peer: Peer): Promise<{ needsSoftResetIn: boolean }> {
    return this.call('UpdatePeer', (c) => c.updatePeer(peer));
  }
  deletePeer(address: string): Promise<void> {
    return this.call('DeletePeer', (c) => c.deletePeer(address));
  }
  addPaths(routes: readonly Route[], options?: BulkOptions): Promise<void> {
    return this.call('AddPathStream', (c) => c.addPaths(routes, options));
  }
  deletePaths(routes: readonly Route[], options?: BulkOptions): Promise<void> {
    return this.call('AddPathStream', (c) => c.deletePaths(routes, options));
  }
  listPaths(family: Family): Promise<RibPath[]> {
    return this.call('ListPath', (c) => c.listPaths(family));
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void): WatchHandle {
    let closed = false;
    let inner: WatchHandle | undefined;
    const done = this.connect('WatchEvent')
      .then((c) => {
        if (closed) return undefined;
        inner = c.watch(options, onEvent);
        return inner.done;
      })
      .catch((err: unknown) => {
        // A watch that ends because gobgpd went away: the next call re-detects (gobgpd may come back upgraded).
        if (err instanceof GobgpError && (isNoAnswer(err.code) || err.unimplemented) && this.choice === 'auto') this.current = undefined;
        throw err;
      });
    done.catch(() => undefined);
    return {
      done,
      close: () => {
        closed = true;
        inner?.close();
      },
    };
  }

  close(): void {
    for (const w of this.wires.values()) w.close();
    this.probeChannel.close();
  }
}

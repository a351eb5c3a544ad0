/**
 * The GoBGP client as tests use it: the production client (src/gobgp/client.ts) plus the single-path calls svcbgp
 * itself never makes — AddPath (returns the uuid), DeletePath (by route or uuid) and StopBgp — and whole-speaker
 * provisioning in one call. The requests come from the same codecs (src/gobgp/v3, v4), so the DeletePath guard
 * (never a request without a path or uuid) holds here too; failures are the same GobgpErrors, naming the RPC.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Route } from '../../src/model/route.js';
import type { SpeakerConfig } from '../../src/model/peer.js';
import { connectGobgp, DEFAULT_DEADLINE_MS, type ClientOptions } from '../../src/gobgp/client.js';
import { createCodec } from '../../src/gobgp/api-version.js';
import { parseGobgpAddress } from '../../src/gobgp/address.js';
import type { WireCodec, WireMessage } from '../../src/gobgp/codec.js';
import { GobgpError } from '../../src/gobgp/errors.js';
import { provisionGlobal, provisionPeers, type ProvisionOptions, type ProvisionResult } from '../../src/gobgp/provision.js';
import type { ApiVersion, GobgpClient, PathTarget, StopOptions } from '../../src/gobgp/types.js';
import { silentLogger } from '../../src/log/logger.js';

export interface TestGobgpClient extends GobgpClient {
  waitForReady(timeoutMs: number): Promise<void>;
  /** Adds (or replaces: same prefix, same family) one local path; returns gobgpd's uuid for it (hex). */
  addPath(route: Route): Promise<string>;
  /** Withdraws one local path, by route or by the uuid AddPath returned. */
  deletePath(target: PathTarget): Promise<void>;
  stopBgp(options?: StopOptions): Promise<void>;
}

/** connectGobgp with the single-path calls; each speaks the API the client is using (detected first if need be). */
export function connectTestGobgp(address: string, options: ClientOptions = {}): TestGobgpClient {
  const client = connectGobgp(address, options);
  const wires = new Map<ApiVersion, UnaryWire>();
  const wire = async (): Promise<UnaryWire> => {
    if (!client.apiVersion) await client.getGlobal();
    const version = client.apiVersion!;
    let w = wires.get(version);
    if (!w) wires.set(version, (w = new UnaryWire(address, createCodec(version), options.deadlineMs ?? DEFAULT_DEADLINE_MS)));
    return w;
  };
  const close = client.close.bind(client);
  return Object.assign(client, {
    async addPath(route: Route): Promise<string> {
      const w = await wire();
      return w.codec.uuidFromAddPathResponse(await w.unary('AddPath', route.prefix, w.codec.addPathRequest(route)));
    },
    async deletePath(target: PathTarget): Promise<void> {
      const w = await wire();
      // Built first: the codec throws on a target that would delete everything, before anything is sent.
      const request = w.codec.deletePathRequest(target);
      await w.unary('DeletePath', 'uuid' in target ? `uuid ${target.uuid}` : target.prefix, request);
    },
    async stopBgp(opts: StopOptions = {}): Promise<void> {
      const w = await wire();
      await w.unary('StopBgp', opts.allowGracefulRestart ? 'allowing graceful restart' : undefined, w.codec.stopBgpRequest(opts));
    },
    close(): void {
      for (const w of wires.values()) w.close();
      close();
    },
  });
}

/** One unary gRPC call at a time over one API version's service. */
class UnaryWire {
  private readonly client: grpc.Client;
  private readonly service: grpc.ServiceDefinition;

  constructor(
    address: string,
    readonly codec: WireCodec,
    private readonly deadlineMs: number,
  ) {
    const definition = protoLoader.loadSync([...codec.protoFiles], {
      includeDirs: [codec.protoDir],
      keepCase: true,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
    });
    this.service = definition[codec.serviceName] as grpc.ServiceDefinition;
    this.client = new grpc.Client(parseGobgpAddress(address), grpc.credentials.createInsecure());
  }

  unary(rpc: string, subject: string | undefined, request: WireMessage): Promise<WireMessage> {
    const m = this.service[rpc] as grpc.MethodDefinition<WireMessage, WireMessage>;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + this.deadlineMs) },
        (err, response) => (err ? reject(new GobgpError(rpc, subject, err.code, err.details || err.message, { cause: err })) : resolve(response ?? {})),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** gobgpd runs other global settings than asked for (what the agent reports as a conflict, as an exception). */
export class ProvisionConflictError extends Error {
  override readonly name = 'ProvisionConflictError';
}

/** Global settings, then peers, in one call; a global-settings conflict throws. */
export async function provisionSpeaker(
  client: GobgpClient,
  config: SpeakerConfig,
  options: ProvisionOptions = {},
): Promise<ProvisionResult & { bgpStarted: boolean }> {
  const global = await provisionGlobal(client, config, await client.getGlobal(), options.logger ?? silentLogger());
  if (global.result === 'conflict') throw new ProvisionConflictError(global.message);
  const result = await provisionPeers(client, config, options);
  const bgpStarted = global.result === 'started';
  return { ...result, bgpStarted, changed: result.changed || bgpStarted };
}

/** Global settings only, as the lab tests restore a node by hand: true when StartBgp was sent; a conflict throws. */
export async function provisionGlobalOrThrow(client: GobgpClient, config: SpeakerConfig): Promise<boolean> {
  const global = await provisionGlobal(client, config, await client.getGlobal(), silentLogger());
  if (global.result === 'conflict') throw new ProvisionConflictError(global.message);
  return global.result === 'started';
}

import { readFile } from 'node:fs/promises';
import type { Logger } from 'winston';
import { parseConfig, type BgpConfig, type ConfigMessage, type ParseOptions } from './index.js';
import { parseYamlDocuments } from './yaml.js';
import { errorText } from '../text/error.js';

/** A svcbgp.io BGPPeer or BGPConfiguration as the API returns it (apiVersion, kind, metadata, spec). */
export interface ConfigResource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; generation?: number };
  spec?: Record<string, unknown>;
}

/**
 * Where the BGP configuration comes from (the --config file and the svcbgp.io custom resources) and which wins: a
 * resource replaces the file's document of the same kind and name. Bad input never replaces good, and a
 * configuration that was never valid never touches a gobgpd that already runs BGP
 * (docs/design.md § Configuration sources and precedence).
 */
/** The configuration to use now, and how trustworthy it is. */
export type ConfigInForce =
  /** The file merged with the resources is valid and in force. */
  | { state: 'valid'; config: BgpConfig }
  /** The merge is invalid now; the last valid one of this process stays in force. */
  | { state: 'last-good'; config: BgpConfig; errors: string[] }
  /**
   * The merge is invalid and nothing valid has been in force since the agent started: apply nothing to a gobgpd
   * that runs BGP; `fallback` (when unambiguous) may bring up an empty one. See the header.
   */
  | { state: 'never-valid'; errors: string[]; fallback?: { config: BgpConfig; quarantined: string[] } };

/** A cluster resource that makes the merged configuration invalid, with the messages about it. */
export interface RejectedResource {
  kind: string;
  name: string;
  uid?: string;
  errors: string[];
}

export class ConfigSource {
  private fileText: string | undefined;
  private fileDocs: unknown[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastKey: string | undefined;
  private lastResult: ConfigInForce | undefined;
  /** The last configuration that was valid in this process; undefined until one was. */
  private lastGood: BgpConfig | undefined;
  private lastErrorsKey: string | undefined;

  constructor(
    private readonly opts: {
      file?: string;
      pollMs: number;
      log: Logger;
      onChange: () => void;
      onLoad?: (source: 'file' | 'merged', ok: boolean) => void;
      /** The cluster resources that make the merge invalid (empty when it is valid again); deduplicated. */
      onRejected?: (rejected: RejectedResource[]) => void;
      parse?: ParseOptions;
    },
  ) {}

  /** Reads and validates the file once; throws an Error listing every problem if it is invalid. */
  async start(): Promise<void> {
    const file = this.opts.file;
    if (!file) {
      this.opts.log.info(
        'no --config file: using the seed defaults (AS 64512, peer 192.168.1.1 AS 64512, no service CIDRs) plus any svcbgp.io custom resources',
        {},
      );
      return;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --config ${this.opts.file}: ${errorText(err)}`);
    }
    const res = this.loadFile(text);
    if (!res.ok) {
      throw new ConfigError(`invalid configuration in ${this.opts.file}:\n${res.errors.map((e) => `  - ${e}`).join('\n')}`);
    }
    this.timer = setInterval(() => {
      // Nothing a poll meets may end the process: an unexpected error is logged and the next poll tries again.
      this.poll(file).catch((err: unknown) => {
        this.opts.log.error('configuration reload failed; keeping the last good configuration', {
          file: this.opts.file,
          error: errorText(err),
        });
      });
    }, this.opts.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      this.opts.log.warn('cannot read --config file; keeping the last good configuration', {
        file: this.opts.file,
        error: errorText(err),
      });
      return;
    }
    if (text === this.fileText) return;
    const res = this.loadFile(text);
    if (res.ok) this.opts.onChange();
  }

  private loadFile(text: string): { ok: true } | { ok: false; errors: string[] } {
    const first = this.fileText === undefined;
    const checked = checkFile(text, this.opts.parse);
    this.opts.onLoad?.('file', checked.ok);
    for (const w of checked.warnings) this.opts.log.warn('configuration warning', { file: this.opts.file, warning: w.text });
    if (!checked.ok) {
      if (!first) {
        this.opts.log.error('new configuration file is invalid; keeping the last good configuration', {
          file: this.opts.file,
          errors: checked.errors,
        });
        this.fileText = text; // do not re-log the same bad content on every poll
      }
      return { ok: false, errors: checked.errors };
    }
    this.fileText = text;
    this.fileDocs = checked.docs;
    this.opts.log.info(first ? 'configuration loaded' : 'configuration file changed: reloaded', {
      file: this.opts.file,
      documents: this.fileDocs.length,
    });
    return { ok: true };
  }

  /**
   * The configuration in force: the file merged with the custom resources. Memoised: re-validated only when
   * the file content or a resource changed. Invalid -> the last good one, or 'never-valid' (see the header).
   */
  effective(peers: readonly ConfigResource[], configs: readonly ConfigResource[]): ConfigInForce {
    const resources = [...configs, ...peers];
    const crs = resources.map(slimResource);
    const key = JSON.stringify([this.fileText ?? '', crs]);
    if (key === this.lastKey && this.lastResult) return this.lastResult;
    this.lastKey = key;
    const res = parseConfig(mergeDocuments(this.fileDocs, crs), this.opts.parse);
    this.opts.onLoad?.('merged', res.ok);
    if (res.ok) {
      if (this.lastErrorsKey !== undefined) this.opts.onRejected?.([]);
      this.lastErrorsKey = undefined;
      if (crs.length > 0) {
        this.opts.log.info('configuration in force: file merged with svcbgp.io resources', {
          fromCluster: crs.map(docId),
          documents: crs.length + this.fileDocs.length,
        });
      }
      this.lastGood = res.config;
      this.lastResult = { state: 'valid', config: res.config };
      return this.lastResult;
    }

    const errors = res.errors.map((e) => e.text);
    const rejected = rejectedResources(res.errors, this.fileDocs, crs, resources);
    if (this.lastGood) {
      this.lastResult = { state: 'last-good', config: this.lastGood, errors };
    } else {
      const fallback = this.fallback(rejected, crs);
      this.lastResult = fallback ? { state: 'never-valid', errors, fallback } : { state: 'never-valid', errors };
    }
    const errorsKey = JSON.stringify(errors);
    if (errorsKey !== this.lastErrorsKey) {
      const r = this.lastResult;
      this.opts.log.error(
        r.state === 'last-good'
          ? 'configuration (file + svcbgp.io resources) is invalid; keeping the last good configuration'
          : 'configuration (file + svcbgp.io resources) is invalid and no valid configuration has been in force since the agent started: nothing is changed in a gobgpd that already runs BGP',
        {
          errors,
          documents: [...this.fileDocs.map(docId), ...crs.map(docId)],
          rejectedResources: rejected.map((x) => `${x.kind}/${x.name}`),
          ...(r.state === 'never-valid'
            ? {
                fallback: r.fallback
                  ? `the file without ${r.fallback.quarantined.join(', ')} (used only to bring up an empty gobgpd)`
                  : 'none (ambiguous): an empty gobgpd waits for a valid configuration',
              }
            : {}),
        },
      );
      this.opts.onRejected?.(rejected);
    }
    this.lastErrorsKey = errorsKey;
    return this.lastResult;
  }

  /** The file plus every resource that carries no error, if no rejected resource replaces a file document. */
  private fallback(rejected: RejectedResource[], crs: unknown[]): { config: BgpConfig; quarantined: string[] } | undefined {
    const bad = new Set(rejected.map((r) => `${r.kind}/${r.name}`));
    if (bad.size === 0) return undefined; // the errors lie in the file itself (or in how it combines): ambiguous
    const fileIds = new Set(this.fileDocs.map(docId));
    if ([...bad].some((id) => fileIds.has(id))) return undefined;
    const kept = crs.filter((c) => !bad.has(docId(c)));
    const res = parseConfig(mergeDocuments(this.fileDocs, kept), this.opts.parse);
    return res.ok ? { config: res.config, quarantined: [...bad].sort() } : undefined;
  }
}

/** A file's documents, validated: the plain values (empty documents dropped), or every problem. */
export function checkFile(
  text: string,
  parse?: ParseOptions,
): { ok: true; docs: unknown[]; warnings: ConfigMessage[] } | { ok: false; errors: string[]; warnings: ConfigMessage[] } {
  const yaml = parseYamlDocuments(text);
  if (yaml.errors.length > 0) {
    const res = parseConfig(text, parse); // the same messages, with document references
    return { ok: false, errors: res.ok ? yaml.errors.map((e) => e.message) : res.errors.map((e) => e.text), warnings: res.warnings };
  }
  const docs = yaml.docs.filter((d) => d !== null && d !== undefined);
  if (docs.length === 0) {
    return {
      ok: false,
      errors: ['the file holds no BGPPeer or BGPConfiguration document (is the ConfigMap empty?); to run on the seed defaults, start without --config'],
      warnings: [],
    };
  }
  const res = parseConfig(yaml.docs, parse);
  if (!res.ok) return { ok: false, errors: res.errors.map((e) => e.text), warnings: res.warnings };
  return { ok: true, docs, warnings: res.warnings };
}

/** File documents, minus those a resource of the same kind and name replaces, then the resources. */
function mergeDocuments(fileDocs: readonly unknown[], crs: readonly unknown[]): unknown[] {
  const crNames = new Set(crs.map((c) => docId(c)));
  return [...fileDocs.filter((d) => !crNames.has(docId(d))), ...crs];
}

/** The resources (by position after the file's documents in the merge) that the errors are about. */
function rejectedResources(
  errors: readonly ConfigMessage[],
  fileDocs: readonly unknown[],
  crs: readonly unknown[],
  resources: readonly ConfigResource[],
): RejectedResource[] {
  const crNames = new Set(crs.map((c) => docId(c)));
  const fileCount = fileDocs.filter((d) => !crNames.has(docId(d))).length;
  const out = new Map<number, RejectedResource>();
  for (const e of errors) {
    const i = e.doc.index - fileCount - 1;
    const r = resources[i];
    if (i < 0 || !r) continue;
    const entry = out.get(i) ?? { kind: String(r.kind), name: String(r.metadata?.name), ...(r.metadata?.uid ? { uid: r.metadata.uid } : {}), errors: [] };
    entry.errors.push(e.text);
    out.set(i, entry);
  }
  return [...out.values()];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function docId(doc: unknown): string {
  if (typeof doc !== 'object' || doc === null) return '?';
  const d = doc as { kind?: unknown; metadata?: { name?: unknown } };
  return `${String(d.kind)}/${String(d.metadata?.name)}`;
}

/** Keep what the parser reads: server-populated metadata (uid, managedFields, ...) is not configuration. */
function slimResource(cr: ConfigResource): unknown {
  return { apiVersion: cr.apiVersion, kind: cr.kind, metadata: { name: cr.metadata?.name }, spec: cr.spec ?? {} };
}

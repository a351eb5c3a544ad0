import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { Logger } from 'winston';
import { defaultConfig, parseConfig, type BgpConfig, type ConfigMessage } from '../config/index.js';
import type { CustomResource } from './cluster.js';

/**
 * Where the BGP configuration comes from, and which source wins.
 *
 * Sources: the --config file (BGPPeer / BGPConfiguration documents, projectcalico.org/v3 or svcbgp.io/v1alpha1;
 * in the DaemonSet it is a mounted ConfigMap) and the svcbgp.io/v1alpha1 BGPPeer / BGPConfiguration custom
 * resources in the cluster (when the CRDs are installed).
 *
 * Precedence (decided here): the two are merged document by document, keyed by kind + metadata.name; a custom
 * resource REPLACES the file document of the same kind and name (the cluster is the live, kubectl-editable
 * source; the file is the boot-time baseline). Documents of other names from both sources all apply. The
 * merged set is validated as one configuration (duplicate peers across the sources are errors). Defaults
 * (AS 64512, peer 192.168.1.1) apply only when neither source holds a document of that kind.
 *
 * Bad input never replaces good: an invalid file (at a reload) or an invalid merged set is logged with every
 * message and the last good configuration stays in force. At start-up an invalid file is fatal (exit 2), so
 * a typo shows at deploy time instead of silently running on defaults.
 *
 * The file is re-read every `pollMs` and compared by content (works for ConfigMap volumes, whose files are
 * swapped via symlinks, where inotify on the file itself misses updates).
 */
export class ConfigSource {
  private fileText: string | undefined;
  private fileDocs: unknown[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastKey: string | undefined;
  private lastGood: BgpConfig = defaultConfig();
  private lastErrorsKey: string | undefined;

  constructor(
    private readonly opts: {
      file?: string;
      pollMs: number;
      log: Logger;
      onChange: () => void;
      onLoad?: (source: 'file' | 'merged', ok: boolean) => void;
    },
  ) {}

  /** Reads and validates the file once; throws an Error listing every problem if it is invalid. */
  async start(): Promise<void> {
    if (!this.opts.file) {
      this.opts.log.info('no --config file: using the seed defaults (AS 64512, peer 192.168.1.1 AS 64512, no service CIDRs) plus any svcbgp.io custom resources', {});
      return;
    }
    let text: string;
    try {
      text = await readFile(this.opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --config ${this.opts.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const res = this.loadFile(text);
    if (!res.ok) {
      throw new ConfigError(`invalid configuration in ${this.opts.file}:\n${res.errors.map((e) => `  - ${e.text}`).join('\n')}`);
    }
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.opts.file!, 'utf8');
    } catch (err) {
      this.opts.log.warn('cannot read --config file; keeping the last good configuration', {
        file: this.opts.file,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    if (text === this.fileText) return;
    const res = this.loadFile(text);
    if (res.ok) this.opts.onChange();
  }

  private loadFile(text: string): { ok: true } | { ok: false; errors: ConfigMessage[] } {
    const first = this.fileText === undefined;
    const res = parseConfig(text);
    this.opts.onLoad?.('file', res.ok);
    for (const w of res.warnings) this.opts.log.warn('configuration warning', { file: this.opts.file, warning: w.text });
    if (!res.ok) {
      if (!first) {
        this.opts.log.error('new configuration file is invalid; keeping the last good configuration', {
          file: this.opts.file,
          errors: res.errors.map((e) => e.text),
        });
        this.fileText = text; // do not re-log the same bad content on every poll
      }
      return { ok: false, errors: res.errors };
    }
    this.fileText = text;
    this.fileDocs = parseAllDocuments(text)
      .flatMap((d) => (Array.isArray(d) ? d : [d]))
      .map((d) => d.toJS() as unknown)
      .filter((v) => v !== null && v !== undefined);
    this.opts.log.info(first ? 'configuration loaded' : 'configuration file changed: reloaded', {
      file: this.opts.file,
      documents: this.fileDocs.length,
    });
    return { ok: true };
  }

  /**
   * The configuration in force: the file merged with the custom resources. Memoised: re-validated only when
   * the file content or a resource changed. Invalid -> the last good one.
   */
  effective(peers: readonly CustomResource[], configs: readonly CustomResource[]): BgpConfig {
    const crs = [...configs, ...peers].map(slimResource);
    const key = JSON.stringify([this.fileText ?? '', crs]);
    if (key === this.lastKey) return this.lastGood;
    this.lastKey = key;
    const crNames = new Set(crs.map((c) => docId(c)));
    const docs = [...this.fileDocs.filter((d) => !crNames.has(docId(d))), ...crs];
    const res = parseConfig(docs);
    this.opts.onLoad?.('merged', res.ok);
    if (!res.ok) {
      const errorsKey = JSON.stringify(res.errors.map((e) => e.text));
      if (errorsKey !== this.lastErrorsKey) {
        this.opts.log.error('configuration (file + svcbgp.io resources) is invalid; keeping the last good configuration', {
          errors: res.errors.map((e) => e.text),
          documents: docs.map(docId),
        });
      }
      this.lastErrorsKey = errorsKey;
      return this.lastGood;
    }
    this.lastErrorsKey = undefined;
    if (crs.length > 0) {
      this.opts.log.info('configuration in force: file merged with svcbgp.io resources', {
        fromCluster: crs.map(docId),
        documents: docs.length,
      });
    }
    this.lastGood = res.config;
    return res.config;
  }
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
function slimResource(cr: CustomResource): unknown {
  return { apiVersion: cr.apiVersion, kind: cr.kind, metadata: { name: cr.metadata?.name }, spec: cr.spec ?? {} };
}

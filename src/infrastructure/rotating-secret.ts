import type { ServerSecrets } from '../application/ports/server-secrets.js';

/**
 * A server secret that rotates every `rotation` seconds (epoch = floor(time / rotation)), held in
 * memory: looking one up is a Map read, never a query. `refresh` (at start, then on a timer) makes
 * sure the current and the next epoch's secrets exist and loads them with the previous one, so an
 * epoch boundary never needs the database and every process on the database agrees.
 */
export class RotatingSecret {
  private secrets: ReadonlyMap<number, Buffer> = new Map();

  private constructor(
    private readonly store: ServerSecrets,
    private readonly purpose: string,
    private readonly rotation: number,
    private readonly now: () => number,
  ) {}

  static async open(store: ServerSecrets, purpose: string, rotation: number, now: () => number): Promise<RotatingSecret> {
    const secret = new RotatingSecret(store, purpose, rotation, now);
    await secret.refresh();
    return secret;
  }

  async refresh(): Promise<void> {
    const epoch = this.epochOf(this.now());
    this.secrets = await this.store.load(this.purpose, [epoch - 1], [epoch, epoch + 1]);
  }

  /**
   * The secret of the epoch `time` (seconds) falls in; for an epoch not loaded (the clock jumped
   * past the next epoch before a refresh), the newest loaded one, until the next refresh.
   */
  secretAt(time: number): Buffer {
    const epoch = this.epochOf(time);
    const exact = this.secrets.get(epoch);
    if (exact !== undefined) return exact;
    let newest: [number, Buffer] | undefined;
    for (const entry of this.secrets) if (newest === undefined || entry[0] > newest[0]) newest = entry;
    if (newest === undefined) throw new Error(`no ${this.purpose} secret loaded`);
    return newest[1];
  }

  private epochOf(time: number): number {
    return Math.floor(time / this.rotation);
  }
}

/**
 * After-hook cleanup that runs every step even when one fails, then reports all failures at once
 * as one environment fault (Allure: broken), so a scenario never leaves harness state behind
 * silently.
 *
 *   const c = new Cleanup();
 *   await c.attempt('take out the card', () => world.admin('cards', '/cards/remove', …));
 *   c.finish();
 */
import { EnvironmentError } from './errors';

export class Cleanup {
  private readonly problems: string[] = [];

  async attempt(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.problems.push(`${what}: ${(e as Error).message}`);
    }
  }

  /** Throws EnvironmentError listing every failed cleanup step (nothing when all succeeded). */
  finish(): void {
    if (this.problems.length) throw new EnvironmentError(`cleaning up after the scenario failed: ${this.problems.join('; ')}`);
  }
}

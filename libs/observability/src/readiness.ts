import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<boolean> | boolean;

/** Services register what must work before they take traffic (database, broker membership, ...). */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
    const checks: Record<string, 'up' | 'down'> = {};
    for (const [name, check] of this.checks) {
      let up = false;
      try {
        up = await Promise.race([
          Promise.resolve(check()),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
        ]);
      } catch {
        up = false;
      }
      checks[name] = up ? 'up' : 'down';
    }
    return { ready: Object.values(checks).every((s) => s === 'up'), checks };
  }
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';

// No Docker engine or compose plugin on the CI machine: parse the file and check its topology instead.
interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
}

const file = readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8');
const compose = parse(file, { merge: true }) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('has PostgreSQL, a Temporal server on it, the web UI, migrations and scalable workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'migrate',
      'postgres',
      'temporal',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.temporal?.environment?.DB).toBe('postgres12');
    expect(compose.services.worker?.build).toBe('.');
    expect(compose.services.worker?.command).toEqual(['worker']);
    expect(compose.services.migrate?.command).toEqual(['migrate']);
    expect(compose.services.worker?.deploy?.replicas).toBeGreaterThan(1);
    expect(compose.services.worker?.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      temporal: { condition: 'service_healthy' },
    });
  });

  it("gives the worker an environment that sevsync's config accepts", () => {
    const env = { ...compose.services.worker?.environment };
    for (const [k, v] of Object.entries(env)) {
      // Resolve ${VAR:-default} / ${VAR:?msg} as compose would, with a valid key supplied.
      env[k] = v.replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_m, name: string, def?: string) =>
        name === 'SEVSYNC_SECRET_KEY' ? Buffer.alloc(32, 1).toString('base64') : (def ?? ''),
      );
    }
    const config = loadConfig(env);
    expect(config.temporalAddress).toBe('temporal:7233');
    expect(config.secretKey?.length).toBe(32);
  });
});

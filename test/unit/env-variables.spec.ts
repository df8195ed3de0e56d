import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mtlsOptionsFromEnv } from 'nest-mtls';
import { closestName, editDistance } from 'nest-mtls/internal';
import { KNOWN_MTLS_VARIABLES, MTLS_CODE_ONLY_OPTIONS, MTLS_ENV, MTLS_ENV_NOT_OPTIONS } from 'nest-mtls/internal';
import { MtlsOptionsDto } from 'nest-mtls/internal';
import { configProblem } from '../support/config-problem';


describe('the table of MTLS_* variables', () => {
  it('has one variable per option of MtlsModule, and every name once, with the MTLS_ prefix', () => {
    const validated = getMetadataStorage()
      .getTargetValidationMetadatas(MtlsOptionsDto, '', true, false)
      .map((m) => m.propertyName);
    expect(MTLS_CODE_ONLY_OPTIONS).toEqual(['source']); // an object with functions: no variable can hold it
    expect(Object.keys(MTLS_ENV).sort()).toEqual([...new Set(validated)].filter((name) => !MTLS_CODE_ONLY_OPTIONS.includes(name)).sort());
    expect(new Set(KNOWN_MTLS_VARIABLES).size).toBe(KNOWN_MTLS_VARIABLES.length);
    for (const name of KNOWN_MTLS_VARIABLES) expect(name).toMatch(/^MTLS_[A-Z0-9_]+$/);
  });

  it('knows the variables that are not options: the development PKI switch and directory, the admin port expiry warning, the SPIFFE source', () => {
    expect(Object.keys(MTLS_ENV_NOT_OPTIONS).sort()).toEqual([
      'MTLS_DEV_PKI', 'MTLS_DEV_PKI_DIR', 'MTLS_EXPIRY_WARNING_DAYS', 'MTLS_SPIFFE', 'MTLS_SPIFFE_ID', 'MTLS_SPIFFE_STALE_AFTER_MS', 'MTLS_SPIFFE_STARTUP_TIMEOUT_MS',
    ]);
    expect(mtlsOptionsFromEnv({ MTLS_DEV_PKI: 'true', MTLS_DEV_PKI_DIR: '/tmp/pki', MTLS_CRL_PATH: '/c.pem' })).toEqual({ crlPath: '/c.pem' });
  });
});

describe('closest known name', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('MTLS_CRL_PATH', 'MTLS_CRL_PATH')).toBe(0);
    expect(editDistance('MTLS_CRL_PTH', 'MTLS_CRL_PATH')).toBe(1);
    expect(editDistance('MTLS_CRL_PAHT', 'MTLS_CRL_PATH')).toBe(1);
    expect(editDistance('MTLS_CRL_PATHS', 'MTLS_CRL_PATH')).toBe(1);
    expect(editDistance('MTLS_CRL_BATH', 'MTLS_CRL_PATH')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it.each([
    ['MTLS_VALIDATE_PEER', 'MTLS_VALIDATE_PEERS'],
    ['MTLS_CRL_PTH', 'MTLS_CRL_PATH'],
    ['MTLS_TRUSTSTORE_PATH', 'MTLS_TRUST_STORE_PATH'],
    ['MTLS_KEYSTORE_PASSWORD', 'MTLS_KEY_STORE_PASSWORD'],
    ['MTLS_KEY_STORE_PASSWROD', 'MTLS_KEY_STORE_PASSWORD'],
    ['MTLS_NEEDCLIENTAUTH', 'MTLS_NEED_CLIENT_AUTH'],
    ['MTLS_ENABLE_CRL_DP', 'MTLS_ENABLE_CRLDP'],
    ['MTLS_SECURITY_LEVLE', 'MTLS_SECURITY_LEVEL'],
    ['MTLS_DEVPKI', 'MTLS_DEV_PKI'],
    ['mtls_crl_path', 'MTLS_CRL_PATH'],
  ])('%s -> %s', (typo, known) => {
    expect(closestName(typo, KNOWN_MTLS_VARIABLES)).toBe(known);
  });

  it('suggests nothing when no known name is near', () => {
    expect(closestName('MTLS_FOO', KNOWN_MTLS_VARIABLES)).toBeUndefined();
    expect(closestName('MTLS_ENABLED', KNOWN_MTLS_VARIABLES)).toBeUndefined();
  });
});

describe('mtlsOptionsFromEnv refuses MTLS_* variables it does not know', () => {
  it('names the variable and the closest known one, on one line', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_VALIDATE_PEER: 'false' }))).toBe(
      'MTLS_VALIDATE_PEER: not a setting of nest-mtls; did you mean MTLS_VALIDATE_PEERS?',
    );
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_KEY_STORE_PATH: '/k.p12', MTLS_CRL_PTH: '/x' }))).toBe(
      'MTLS_CRL_PTH: not a setting of nest-mtls; did you mean MTLS_CRL_PATH?',
    );
  });

  it('refuses a typo even when its value is empty, and before reading any value', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_VALIDATE_PEER: '' }))).toMatch(/^MTLS_VALIDATE_PEER: /);
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_SECURITY_LEVEL: 'abc', MTLS_CRL_PTH: '/x' }))).toMatch(/^MTLS_CRL_PTH: /);
  });

  it('treats the prefix in any case, and says that names are case-sensitive', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ mtls_crl_path: '/x' }))).toBe(
      'mtls_crl_path: not a setting of nest-mtls; did you mean MTLS_CRL_PATH? (variable names are case-sensitive)',
    );
  });

  it('says so when nothing is close, and lists the other unknown names on the same line', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_FOO: '1' }))).toBe(
      'MTLS_FOO: not a setting of nest-mtls; no known name is close (nest-mtls reserves the MTLS_ prefix; its variables are listed in its options reference, docs/reference/options.md)',
    );
    const message = configProblem(() => mtlsOptionsFromEnv({ MTLS_VALIDATE_PEER: 'false', MTLS_CRL_PTH: '/x', MTLS_FOO: '1' }));
    expect(message).toBe('MTLS_CRL_PTH: not a setting of nest-mtls; did you mean MTLS_CRL_PATH? (also unknown: MTLS_FOO, MTLS_VALIDATE_PEER)');
    expect(message).not.toContain('\n');
  });

  it('leaves variables without the prefix alone', () => {
    expect(mtlsOptionsFromEnv({ PORT: '8443', MTLSX: '1', MY_MTLS_THING: '1', NODE_ENV: 'production' })).toEqual({});
  });

  describe('with a ConfigService, which cannot list its variables: the process environment', () => {
    const added: string[] = [];
    const setEnv = (name: string, value: string) => {
      added.push(name);
      process.env[name] = value;
    };
    afterEach(() => {
      for (const name of added.splice(0)) delete process.env[name];
    });

    it('refuses a typo set in the environment', () => {
      setEnv('MTLS_VALIDATE_PEER', 'false');
      const getter = { get: (name: string) => process.env[name] };
      expect(configProblem(() => mtlsOptionsFromEnv(getter))).toBe('MTLS_VALIDATE_PEER: not a setting of nest-mtls; did you mean MTLS_VALIDATE_PEERS?');
    });

    it('refuses a typo in a .env file that ConfigModule loaded (it copies them into process.env)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nest-mtls-env-'));
      try {
        const envFile = join(dir, '.env');
        writeFileSync(envFile, 'MTLS_CRL_PATH=/etc/mtls/crl.pem\nMTLS_NEED_CLIENT_AUHT=false\n');
        added.push('MTLS_CRL_PATH', 'MTLS_NEED_CLIENT_AUHT');
        @Module({ imports: [ConfigModule.forRoot({ envFilePath: envFile })] })
        class AppModule {}
        const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
        const config = app.get(ConfigService);
        expect(config.get('MTLS_CRL_PATH')).toBe('/etc/mtls/crl.pem');
        expect(configProblem(() => mtlsOptionsFromEnv(config))).toBe(
          'MTLS_NEED_CLIENT_AUHT: not a setting of nest-mtls; did you mean MTLS_NEED_CLIENT_AUTH?',
        );
        await app.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

// Which data converter the client and the worker use: the SDK's default, or with SEVSYNC_ENCRYPT_PAYLOADS=1 the
// keyring's payload codec (./codec.ts) and the failure converter that moves failure messages into encrypted
// attributes (./failure-converter.ts). Both sides must agree: a worker without the codec cannot read what an
// encrypting client sent, and the reverse.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter, Logger } from '@temporalio/common';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { Config } from '../config';
import { ConfigError, requireKeyring } from '../config';
import { KeyringPayloadCodec } from './codec';

/** The failure converter's module, for DataConverter.failureConverterPath and the workflow bundler. */
export function failureConverterPath(): string {
  const source = path.join(__dirname, 'failure-converter.ts');
  return existsSync(source) ? source : require.resolve('./failure-converter');
}

/** The marker ./failure-converter.ts exports, found in a bundle built with it. */
const BUNDLE_MARKER = 'sevsync-encoded-failures';

export function encryptsPayloads(config: Config): boolean {
  return config.temporal?.encryptPayloads === true;
}

/** The codec over the configuration's keyring (the first key encrypts, every key decrypts). */
export function payloadCodecOf(config: Config): KeyringPayloadCodec {
  try {
    return new KeyringPayloadCodec(requireKeyring(config));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(`SEVSYNC_ENCRYPT_PAYLOADS=1 encrypts with the secret key, and ${err.message}`);
  }
}

/** The client's and the worker's data converter; undefined: the SDK's default (payloads in clear). */
export function temporalDataConverter(config: Config): DataConverter | undefined {
  if (!encryptsPayloads(config)) return undefined;
  return { payloadCodecs: [payloadCodecOf(config)], failureConverterPath: failureConverterPath() };
}

/** What bundleWorkflowCode needs so that failures raised by workflow code are encrypted too. */
export function bundlerConverterOptions(config: Config): { failureConverterPath?: string } {
  return encryptsPayloads(config) ? { failureConverterPath: failureConverterPath() } : {};
}

/**
 * A prebuilt bundle (SEVSYNC_WORKFLOW_BUNDLE, `npm run build:workflows`) carries the failure converter it was
 * built with. Without ours, failures that workflow code raises keep their message in clear (activity
 * failures are still encrypted): say so once at start.
 */
export function warnIfBundleKeepsFailuresInClear(
  config: Config,
  bundle: WorkflowBundleOption,
  logger: Logger,
): void {
  if (!encryptsPayloads(config)) return;
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  if (code.includes(BUNDLE_MARKER)) return;
  logger.warn(
    'the workflow bundle was built without the encrypting failure converter: messages of failures raised ' +
      'by workflow code stay in clear text in histories (activity failures are encrypted); build it with ' +
      'failureConverterPath (docs/temporal.md)',
    { workflowBundle: 'codePath' in bundle ? bundle.codePath : 'in memory' },
  );
}

// What can be wrong with the Temporal namespace's search attributes, and the commands an operator runs to fix
// it: the texts of the errors the namespace check (namespace.ts) throws and the worker logs.
import type { SearchAttributeType } from '@temporalio/common';

/** A search attribute the workflows upsert (a SearchAttributeKey). */
export type RequiredAttribute = { readonly name: string; readonly type: SearchAttributeType };

/** Why a namespace is not as the workflows need it. */
export type NamespaceProblemType =
  /** An attribute is not registered and this worker may not (or cannot) register it. */
  | 'search_attribute_missing'
  /** An attribute is registered under the same name with another type. */
  | 'search_attribute_wrong_type'
  /** Registered, but the server did not list it within the bound. */
  | 'search_attribute_not_visible'
  | 'namespace_not_found';

export class NamespaceSetupError extends Error {
  override readonly name = 'NamespaceSetupError';
  constructor(
    readonly type: NamespaceProblemType,
    /** One line, for /readyz and log messages. */
    readonly summary: string,
    /** The commands an operator runs to fix it (empty when there is nothing to run). */
    readonly commands: string[],
    details: string,
  ) {
    super(`${summary}${details ? `\n${details}` : ''}`);
  }
}

/** The Temporal CLI's and tcld's names of the types. */
export const TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** A word of a shell command, quoted when it needs it. */
export const sh = (word: string): string =>
  /^[\w.:/@=,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

export const attributeNames = (keys: readonly RequiredAttribute[]): string =>
  keys.map((k) => k.name).join(', ');

export interface SearchAttributeFix {
  namespace: string;
  address: string;
  missing: readonly RequiredAttribute[];
  wrongType: readonly { key: RequiredAttribute; registeredAs: string }[];
}

/** The commands that register what is missing, or replace what has the wrong type (self-hosted, then Cloud). */
export function searchAttributeCommands(fix: SearchAttributeFix): string[] {
  const base = ['temporal', 'operator', 'search-attribute'];
  const target = ['--address', fix.address, '--namespace', fix.namespace];
  const line = (words: string[]) => words.map(sh).join(' ');
  const create = (k: RequiredAttribute) =>
    line([...base, 'create', ...target, '--name', k.name, '--type', TYPE_NAMES[k.type]]);
  const out: string[] = [];
  for (const w of fix.wrongType)
    out.push(line([...base, 'remove', ...target, '--name', w.key.name, '--yes']), create(w.key));
  for (const k of fix.missing) out.push(create(k));
  const cloudAdd = [...fix.wrongType.map((w) => w.key), ...fix.missing].flatMap((k) => [
    '--search-attribute',
    `${k.name}=${TYPE_NAMES[k.type]}`,
  ]);
  // On Temporal Cloud an attribute is not retyped in place either: the old one is renamed out of the way.
  for (const w of fix.wrongType)
    out.push(
      line([
        'tcld',
        'namespace',
        'search-attributes',
        'rename',
        '--namespace',
        fix.namespace,
        '--existing-name',
        w.key.name,
        '--new-name',
        `${w.key.name}${/^\w+$/.test(w.registeredAs) ? w.registeredAs : 'Old'}`,
      ]),
    );
  if (cloudAdd.length > 0)
    out.push(
      line(['tcld', 'namespace', 'search-attributes', 'add', '--namespace', fix.namespace, ...cloudAdd]),
    );
  return out;
}

function commandText(commands: string[], whenFixed: string): string {
  const self = commands.filter((c) => c.startsWith('temporal '));
  const cloud = commands.filter((c) => c.startsWith('tcld '));
  return [
    'Run, once, against this namespace (a self-hosted server or `temporal server start-dev`):',
    ...self.map((c) => `  ${c}`),
    'or, on Temporal Cloud:',
    ...cloud.map((c) => `  ${c}`),
    whenFixed,
  ].join('\n');
}

const CONSEQUENCE =
  "Until they are registered as sevsync needs them, every workflow task that records an account's state fails " +
  '(BadSearchAttributes) and is retried for ever.';

/**
 * Attributes missing or of the wrong type, with the commands that fix them; `whenFixed` is the message's last
 * line, `cause` why the worker did not register the missing ones itself.
 */
export function searchAttributeProblem(
  fix: SearchAttributeFix,
  whenFixed: string,
  cause?: string,
): NamespaceSetupError {
  const { namespace } = fix;
  const commands = searchAttributeCommands(fix);
  if (fix.wrongType.length > 0) {
    const what = fix.wrongType
      .map((w) => `${w.key.name} is registered as ${w.registeredAs}, sevsync needs ${TYPE_NAMES[w.key.type]}`)
      .join('; ');
    return new NamespaceSetupError(
      'search_attribute_wrong_type',
      `Temporal namespace ${namespace} has a search attribute of the wrong type: ${what}`,
      commands,
      `${CONSEQUENCE} A search attribute's type cannot be changed in place: remove (or on Temporal Cloud rename) ` +
        `it and register it again; running workflows record their state again at their next change.` +
        (fix.missing.length > 0 ? ` Missing too: ${attributeNames(fix.missing)}.` : '') +
        `\n${commandText(commands, whenFixed)}`,
    );
  }
  return new NamespaceSetupError(
    'search_attribute_missing',
    `Temporal namespace ${namespace} lacks the search attributes ${attributeNames(fix.missing)} and the worker ` +
      `could not register them${cause ? ` (${cause})` : ''}`,
    commands,
    `${CONSEQUENCE}\n${commandText(commands, whenFixed)}`,
  );
}

/** The namespace itself is not there (or TEMPORAL_NAMESPACE names another). */
export function namespaceNotFound(
  namespace: string,
  address: string,
  serverSaid: string,
): NamespaceSetupError {
  const create = `temporal operator namespace create --address ${sh(address)} --namespace ${sh(namespace)}`;
  return new NamespaceSetupError(
    'namespace_not_found',
    `Temporal namespace ${namespace} does not exist (${serverSaid})`,
    [create],
    `Create it (or correct TEMPORAL_NAMESPACE):\n  ${create}`,
  );
}

/** Registered, but not listed within `boundMs` (a server that applies them asynchronously). */
export function attributesNotVisible(
  namespace: string,
  address: string,
  missing: readonly RequiredAttribute[],
  boundMs: number,
): NamespaceSetupError {
  const list = `temporal operator search-attribute list --address ${sh(address)} --namespace ${sh(namespace)}`;
  return new NamespaceSetupError(
    'search_attribute_not_visible',
    `Temporal namespace ${namespace} accepted the search attributes ${attributeNames(missing)} but did not list ` +
      `them within ${Math.round(boundMs / 1000)} s`,
    [list],
    `The server may still be applying them: start the worker again in a while, and check with\n  ${list}`,
  );
}

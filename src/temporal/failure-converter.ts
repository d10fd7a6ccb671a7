// The failure converter for encrypted payloads: a failure's message and stack trace (which may carry a sevDesk
// error text) move into its encoded attributes, a payload the codec encrypts; the history keeps "Encoded
// failure". Named by path (DataConverter.failureConverterPath) to the worker, which require()s it in its main
// thread (activity failures), and to the workflow bundler (failures workflow code raises). Plain CommonJS on
// purpose: the SDK's require() takes this file as JavaScript wherever no TypeScript loader is registered.
// Decoding needs nothing of this: the SDK's default converter reads encoded attributes whenever present.

// A block: this file is a script to TypeScript, whose top-level names would be global.
{
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultFailureConverter } = require('@temporalio/common');
  exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
  /** Found in a workflow bundle that was built with this converter (./data-converter.ts looks for it). */
  exports.bundleMarker = 'sevsync-encoded-failures';
}

import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils';
import type * as protos from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

// The conversion of historyToJSON/historyFromJSON in @temporalio/common/lib/proto-utils (the Temporal JSON
// history format), done with the protojson of the protobufjs copy that @temporalio/proto's types come from.
// When npm gives @temporalio/common and @temporalio/proto separate copies of protobufjs (it does while the
// root node_modules/protobufjs is grpc's 7.x), the SDK functions throw "type must be a Type".
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
type ProtoRoot = typeof protos & { lookupType(name: string): unknown };

const protoPath = createRequire(__filename).resolve('@temporalio/proto');
const fromProto = createRequire(protoPath);
// Loaded with require, not `import * as`: the ESM namespace wrapper hides the protobufjs Root methods.
const root = patchProtobufRoot(fromProto(protoPath) as ProtoRoot);
const protojson = fromProto('protobufjs/ext/protojson') as ProtoJson;
const historyType = root.lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  const message = root.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protojson.toJson(historyType, message), null, 2);
}

export function historyFromJson(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

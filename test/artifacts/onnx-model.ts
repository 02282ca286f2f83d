/**
 * Writes a tiny ONNX model by hand (protobuf wire format, onnx.proto3 field numbers), so the
 * tests need no download and no Python: graph `Y = Add(A, B)` over float[3] inputs, IR 7, opset 13.
 */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number) => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field: number, b: Buffer) => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field: number, s: string) => bytes(field, Buffer.from(s, "utf8"));

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1 (FLOAT=1), shape=2: {dim=1: {dim_value=1}}}}} */
function floatVector(name: string, length: number): Buffer {
  const dim = bytes(1, int(1, length));
  const tensor = Buffer.concat([int(1, 1), bytes(2, dim)]);
  return Buffer.concat([str(1, name), bytes(2, bytes(1, tensor))]);
}

export function makeAddModel(): Buffer {
  // NodeProto{input=1, output=2, name=3, op_type=4}
  const node = Buffer.concat([str(1, "A"), str(1, "B"), str(2, "Y"), str(3, "add0"), str(4, "Add")]);
  // GraphProto{node=1, name=2, input=11, output=12}
  const graph = Buffer.concat([bytes(1, node), str(2, "add"), bytes(11, floatVector("A", 3)), bytes(11, floatVector("B", 3)), bytes(12, floatVector("Y", 3))]);
  // ModelProto{ir_version=1, producer_name=2, graph=7, opset_import=8: {domain=1, version=2}}
  return Buffer.concat([int(1, 7), str(2, "pipeseal-test"), bytes(7, graph), bytes(8, Buffer.concat([str(1, ""), int(2, 13)]))]);
}

/** istio.policy.v1beta1.ValueType, with the same numbers as the proto enum. */
export enum ValueType {
  VALUE_TYPE_UNSPECIFIED = 0,
  STRING = 1,
  INT64 = 2,
  DOUBLE = 3,
  BOOL = 4,
  TIMESTAMP = 5,
  IP_ADDRESS = 6,
  EMAIL_ADDRESS = 7,
  URI = 8,
  DNS_NAME = 9,
  DURATION = 10,
  STRING_MAP = 11,
}

const BY_NAME: ReadonlyMap<string, ValueType> = new Map(
  Object.entries(ValueType).filter((e): e is [string, ValueType] => typeof e[1] === 'number'),
);

export function valueTypeFromName(name: string): ValueType | undefined {
  return BY_NAME.get(name);
}

export function valueTypeName(t: ValueType): string {
  return ValueType[t] ?? `ValueType(${String(t)})`;
}

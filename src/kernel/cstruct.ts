/**
 * C structs of a user-space ABI, byte for byte: a layout names every field
 * with its offset and size, padding included, and is checked when it is
 * defined (natural alignment, no overlap, no hole, size a multiple of the
 * alignment), so a struct that changed between patch revisions gets one
 * layout per revision and a test can pin each size.
 *
 * Values are little-endian (x86). `__u32` fields are numbers, `__u64` fields
 * bigints (an address or a reserved word may use all 64 bits). Assigning a
 * value that does not fit truncates it on encoding, as a C assignment would.
 */

export type FieldType = 'u32' | 'u64';

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly offset: number;
  readonly size: 4 | 8;
}

export interface StructLayout {
  /** The C name, `struct ksm_memory_region`. */
  readonly name: string;
  /** Which revision of the header (`2008`, `2009`), for messages and tables. */
  readonly revision: string;
  /** sizeof */
  readonly size: number;
  /** alignof */
  readonly align: number;
  readonly fields: readonly Field[];
}

export const u32 = (name: string, offset: number): Field => ({ name, type: 'u32', offset, size: 4 });
export const u64 = (name: string, offset: number): Field => ({ name, type: 'u64', offset, size: 8 });

/** Defines a layout and checks it; throws if the fields do not tile [0, size) exactly. */
export function structLayout(name: string, revision: string, size: number, fields: Field[]): StructLayout {
  let at = 0;
  let align = 1;
  for (const f of fields) {
    if (f.offset !== at) throw new Error(`${name} (${revision}): ${f.name} at ${f.offset}, expected ${at} (undeclared padding or overlap)`);
    if (f.offset % f.size !== 0) throw new Error(`${name} (${revision}): ${f.name} at ${f.offset} is not naturally aligned`);
    at += f.size;
    align = Math.max(align, f.size);
  }
  if (at !== size) throw new Error(`${name} (${revision}): fields end at ${at}, sizeof is ${size}`);
  if (size % align !== 0) throw new Error(`${name} (${revision}): sizeof ${size} is not a multiple of its alignment ${align}`);
  return Object.freeze({ name, revision, size, align, fields: Object.freeze(fields.map((f) => Object.freeze(f))) });
}

export type FieldValue = number | bigint;
export type StructValues = Record<string, FieldValue>;

/** Encodes values into `out[offset .. offset + size)` (a new buffer by default). */
export function encodeStruct(layout: StructLayout, v: Readonly<StructValues>, out = new Uint8Array(layout.size), offset = 0): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset + offset, layout.size);
  for (const f of layout.fields) {
    const x = v[f.name] ?? 0;
    if (f.type === 'u32') dv.setUint32(f.offset, Number(BigInt.asUintN(32, BigInt(x))), true);
    else dv.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(x)), true);
  }
  return out;
}

/** Decodes `layout.size` bytes at `offset`. */
export function decodeStruct(layout: StructLayout, bytes: Uint8Array, offset = 0): StructValues {
  if (bytes.length - offset < layout.size) throw new RangeError(`${layout.name}: ${bytes.length - offset} bytes, need ${layout.size}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, layout.size);
  const v: StructValues = {};
  for (const f of layout.fields) v[f.name] = f.type === 'u32' ? dv.getUint32(f.offset, true) : dv.getBigUint64(f.offset, true);
  return v;
}

/** A struct class: its layout is a static member, so `sizeof(T)` is `T.layout.size`. */
export interface StructClass<T extends CStruct = CStruct> {
  readonly layout: StructLayout;
  new (): T;
}

/**
 * Base of the struct classes of a header. An instance is the C object a
 * program declares (`struct ksm_kthread_info info;`): zero-initialised, its
 * fields plain properties, and the typed ioctl wrapper copies it to and from
 * the process's memory around the call, as `&info` would be passed.
 */
export abstract class CStruct {
  constructor(init?: Readonly<Record<string, FieldValue | undefined>>) {
    const self = this as unknown as StructValues;
    for (const f of this.layout().fields) self[f.name] = f.type === 'u32' ? 0 : 0n;
    if (init) this.assign(init);
  }

  /** The layout of this struct's class. */
  layout(): StructLayout {
    return (this.constructor as unknown as StructClass).layout;
  }

  /** Sets fields, converting as a C assignment would (u32 numbers, u64 bigints, truncated). */
  assign(values: Readonly<Record<string, FieldValue | undefined>>): this {
    const self = this as unknown as StructValues;
    for (const f of this.layout().fields) {
      const x = values[f.name];
      if (x === undefined) continue;
      self[f.name] = f.type === 'u32' ? Number(BigInt.asUintN(32, BigInt(x))) : BigInt.asUintN(64, BigInt(x));
    }
    return this;
  }

  encode(): Uint8Array {
    return encodeStruct(this.layout(), this as unknown as StructValues);
  }

  /** Overwrites every field from `bytes` (what copy_to_user left in the program's struct). */
  decodeFrom(bytes: Uint8Array, offset = 0): this {
    Object.assign(this, decodeStruct(this.layout(), bytes, offset));
    return this;
  }

  /** The field values as a plain object. */
  values(): StructValues {
    const self = this as unknown as StructValues;
    return Object.fromEntries(this.layout().fields.map((f) => [f.name, self[f.name]]));
  }
}

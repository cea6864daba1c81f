// File control parameters (FCP, tag 62) returned by SELECT with P2 = 04,
// as gemSpec_COS codes them (order as observed on G2 cards):
//   folder: 82 descriptor, 83 FID, 8A life cycle, 84 AID
//   EF:     80 size, 82 descriptor, 83 FID, 88 SFI, 8A life cycle, C5 logical end (transparent)
// The security attributes (A1, access rules in expanded format) are not
// encoded: see docs/card-os.md.

import type { DedicatedFile, ElementaryFile, LifeCycleStatus } from './model';
import { tlv } from './tlv';

export function lifeCycleByte(lcs: LifeCycleStatus): number {
  switch (lcs) {
    case 'activated':
      return 0x05;
    case 'deactivated':
      return 0x04;
    case 'terminated':
      return 0x0c;
  }
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}

export function folderFcp(df: DedicatedFile): Buffer {
  const parts: Buffer[] = [tlv(0x82, Buffer.from([(df.shareable ?? true) ? 0x78 : 0x38]))];
  if (df.fid !== undefined) parts.push(tlv(0x83, u16(df.fid)));
  parts.push(tlv(0x8a, Buffer.from([lifeCycleByte(df.lifeCycle)])));
  if (df.aid) parts.push(tlv(0x84, df.aid));
  return tlv(0x62, Buffer.concat(parts));
}

const RECORD_DESCRIPTOR = { linearFixed: 0x02, linearVariable: 0x04, cyclic: 0x06 } as const;

export function fileFcp(ef: ElementaryFile): Buffer {
  const share = (ef.shareable ?? true) ? 0x40 : 0x00;
  const parts: Buffer[] = [];
  if (ef.structure === 'transparent') {
    parts.push(tlv(0x80, u16(ef.size)));
    parts.push(tlv(0x82, Buffer.from([share | 0x01])));
  } else {
    const maxLen = u16(ef.maxRecordLength);
    parts.push(tlv(0x82, Buffer.from([share | RECORD_DESCRIPTOR[ef.structure], 0x21, maxLen[0], maxLen[1], ef.maxRecords & 0xff])));
  }
  parts.push(tlv(0x83, u16(ef.fid)));
  if (ef.sfi !== undefined) parts.push(tlv(0x88, Buffer.from([ef.sfi << 3])));
  parts.push(tlv(0x8a, Buffer.from([lifeCycleByte(ef.lifeCycle)])));
  if (ef.structure === 'transparent') parts.push(tlv(0xc5, u16(ef.data.length)));
  return tlv(0x62, Buffer.concat(parts));
}

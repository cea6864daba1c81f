// File commands: SELECT, READ BINARY, READ RECORD (gemSpec_COS 14.2, 14.3, 14.4).

import { type CommandApdu, type ResponseApdu, respond, SW } from '../../../simulators/lib/apdu';
import type { CardContext } from '../context';
import { fileFcp, folderFcp } from '../fcp';
import type { CardObject, DedicatedFile, ElementaryFile } from '../model';

const NONE = Buffer.alloc(0);

function selectionStatus(o: CardObject): number {
  if (o.lifeCycle === 'deactivated') return 0x6283;
  if (o.lifeCycle === 'terminated') return 0x6285;
  return SW.OK;
}

/**
 * SELECT (00 A4 P1 P2 [data] [Le]).
 * P1: 00 MF/DF/EF by FID (ISO), 01 child DF by FID, 02 EF by FID,
 *     03 parent folder, 04 folder by AID (no data: the MF).
 * P2: 04 return FCP, 0C no response data.
 */
export function select(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  const { p1, p2, data } = apdu;
  if (p2 !== 0x04 && p2 !== 0x0c) return respond(SW.WRONG_P1P2);
  const wantFcp = p2 === 0x04;
  const tree = ctx.tree;

  const doneFolder = (df: DedicatedFile): ResponseApdu => {
    ctx.selectFolder(df);
    return respond(selectionStatus(df), wantFcp ? folderFcp(df) : NONE);
  };
  const doneFile = (ef: ElementaryFile): ResponseApdu => {
    ctx.selectFile(ef);
    return respond(selectionStatus(ef), wantFcp ? fileFcp(ef) : NONE);
  };

  switch (p1) {
    case 0x04: {
      if (data.length === 0) return doneFolder(tree.root);
      if (data.length < 5 || data.length > 16) return respond(SW.WRONG_LENGTH);
      const df = tree.folderByAid(data);
      return df ? doneFolder(df) : respond(SW.FILE_NOT_FOUND);
    }
    case 0x00: {
      if (data.length === 0) return doneFolder(tree.root);
      if (data.length !== 2) return respond(SW.WRONG_LENGTH);
      const fid = data.readUInt16BE(0);
      if (fid === 0x3f00) return doneFolder(tree.root);
      const child = ctx.currentDf.children.find((c) => (c.kind === 'df' || c.kind === 'ef') && c.fid === fid);
      if (!child) return respond(SW.FILE_NOT_FOUND);
      return child.kind === 'df' ? doneFolder(child) : doneFile(child as ElementaryFile);
    }
    case 0x01: {
      if (data.length !== 2) return respond(SW.WRONG_LENGTH);
      const df = tree.childFolderByFid(ctx.currentDf, data.readUInt16BE(0));
      return df ? doneFolder(df) : respond(SW.FILE_NOT_FOUND);
    }
    case 0x02: {
      if (data.length !== 2) return respond(SW.WRONG_LENGTH);
      const ef = tree.childFileByFid(ctx.currentDf, data.readUInt16BE(0));
      return ef ? doneFile(ef) : respond(SW.FILE_NOT_FOUND);
    }
    case 0x03: {
      if (data.length !== 0) return respond(SW.WRONG_LENGTH);
      const parent = tree.parentOf(ctx.currentDf);
      return parent ? doneFolder(parent) : respond(SW.FILE_NOT_FOUND);
    }
    default:
      return respond(SW.WRONG_P1P2);
  }
}

/** Resolve the EF a READ command addresses: by SFI (which then becomes the current EF) or the current EF. */
function addressedFile(ctx: CardContext, sfi: number | undefined): ElementaryFile | number {
  if (sfi !== undefined) {
    const ef = ctx.tree.childFileBySfi(ctx.currentDf, sfi);
    if (!ef) return SW.FILE_NOT_FOUND;
    ctx.selectFile(ef);
    return ef;
  }
  return ctx.currentEf ?? SW.NO_CURRENT_EF;
}

/**
 * READ BINARY (00 B0 P1 P2 Le).
 * P1 bit 8 set: P1 b5..b1 = SFI, P2 = offset (0..255); else P1P2 = offset (0..32767).
 * Offset at or beyond the end → 6B00. Fewer bytes than an explicit Ne → 6282;
 * with the wildcard Le (00 / 0000) the rest of the file and 9000.
 */
export function readBinary(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.isoCase !== 2) return respond(SW.WRONG_LENGTH);
  const { p1, p2 } = apdu;
  let sfi: number | undefined;
  let offset: number;
  if (p1 & 0x80) {
    if (p1 & 0x60) return respond(SW.WRONG_P1P2);
    sfi = p1 & 0x1f;
    if (sfi === 0 || sfi === 0x1f) return respond(SW.WRONG_P1P2);
    offset = p2;
  } else {
    offset = (p1 << 8) | p2;
  }
  const ef = addressedFile(ctx, sfi);
  if (typeof ef === 'number') return respond(ef);
  if (ef.structure !== 'transparent') return respond(SW.WRONG_FILE_TYPE);
  if (!ctx.security.check(ef, apdu.cla, apdu.ins, p1, p2)) return respond(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (offset >= ef.data.length) return respond(SW.WRONG_OFFSET);
  const ne = apdu.ne as number;
  const chunk = Buffer.from(ef.data.subarray(offset, offset + ne));
  const short = chunk.length < ne && !apdu.neWildcard;
  return respond(short ? SW.END_OF_FILE : SW.OK, chunk);
}

/**
 * READ RECORD (00 B2 P1 P2 Le): P1 = record number (1..254), P2 = SFI << 3 | 100b
 * (SFI 0: current EF). Missing record → 6A83.
 */
export function readRecord(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.isoCase !== 2) return respond(SW.WRONG_LENGTH);
  const { p1, p2 } = apdu;
  if (p1 === 0x00 || p1 === 0xff || (p2 & 0x07) !== 0x04) return respond(SW.WRONG_P1P2);
  const sfiBits = p2 >> 3;
  if (sfiBits === 0x1f) return respond(SW.WRONG_P1P2);
  const ef = addressedFile(ctx, sfiBits === 0 ? undefined : sfiBits);
  if (typeof ef === 'number') return respond(ef);
  if (ef.structure === 'transparent') return respond(SW.WRONG_FILE_TYPE);
  if (!ctx.security.check(ef, apdu.cla, apdu.ins, p1, p2)) return respond(SW.SECURITY_STATUS_NOT_SATISFIED);
  const record = ef.records[p1 - 1];
  if (!record) return respond(SW.RECORD_NOT_FOUND);
  const ne = apdu.ne as number;
  const chunk = Buffer.from(record.subarray(0, ne));
  const short = chunk.length < ne && !apdu.neWildcard;
  return respond(short ? SW.END_OF_FILE : SW.OK, chunk);
}

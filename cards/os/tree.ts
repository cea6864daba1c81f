// Navigation in an object system: parents, lookup by AID, FID, SFI,
// password reference and key reference.

import type {
  CardObject,
  DedicatedFile,
  ElementaryFile,
  MultireferencePassword,
  ObjectSystem,
  Password,
  PrivateKey,
  PublicKey,
} from './model';

export type AnyPassword = Password | MultireferencePassword;

export class ObjectTree {
  readonly root: DedicatedFile;
  private readonly parents = new Map<CardObject, DedicatedFile>();
  private readonly folders: DedicatedFile[] = [];

  constructor(os: ObjectSystem) {
    this.root = os.root;
    const walk = (folder: DedicatedFile): void => {
      this.folders.push(folder);
      for (const child of folder.children) {
        this.parents.set(child, folder);
        if (child.kind === 'df') walk(child);
      }
    };
    walk(this.root);
  }

  parentOf(o: CardObject): DedicatedFile | undefined {
    return this.parents.get(o);
  }

  /** The folder an object lives in (a folder's own folder is itself). */
  folderOf(o: CardObject): DedicatedFile {
    if (o.kind === 'df') return o;
    return this.parents.get(o) ?? this.root;
  }

  /** Folders from `start` up to the MF. */
  *upwards(start: DedicatedFile): Generator<DedicatedFile> {
    let f: DedicatedFile | undefined = start;
    while (f) {
      yield f;
      f = this.parents.get(f);
    }
  }

  /** A folder anywhere in the object system with exactly this AID (the MF included). */
  folderByAid(aid: Buffer): DedicatedFile | undefined {
    return this.folders.find((f) => f.aid !== undefined && f.aid.equals(aid));
  }

  childFolderByFid(folder: DedicatedFile, fid: number): DedicatedFile | undefined {
    return folder.children.find((c): c is DedicatedFile => c.kind === 'df' && c.fid === fid);
  }

  childFileByFid(folder: DedicatedFile, fid: number): ElementaryFile | undefined {
    return folder.children.find((c): c is ElementaryFile => c.kind === 'ef' && c.fid === fid);
  }

  childFileBySfi(folder: DedicatedFile, sfi: number): ElementaryFile | undefined {
    return folder.children.find((c): c is ElementaryFile => c.kind === 'ef' && c.sfi === sfi);
  }

  /**
   * Resolve a password reference as coded in P2 of VERIFY: bit 0x80 set =
   * DF-specific (search from `folder` towards the MF), clear = global (MF only).
   */
  password(folder: DedicatedFile, reference: number): AnyPassword | undefined {
    const id = reference & 0x1f;
    const search = (reference & 0x80) !== 0 ? [...this.upwards(folder)] : [this.root];
    for (const f of search) {
      const hit = f.children.find(
        (c): c is AnyPassword => (c.kind === 'password' || c.kind === 'mrpassword') && c.id === id,
      );
      if (hit) return hit;
    }
    return undefined;
  }

  /** The password object holding the secret and retry counter of `p` (itself, or the one a multireference password names). */
  secretHolder(p: AnyPassword): Password | undefined {
    if (p.kind === 'password') return p;
    const target = this.password(this.folderOf(p), p.passwordReference);
    return target && target.kind === 'password' ? target : undefined;
  }

  /** Resolve a private key reference (tag 84 of MSE SET): bit 0x80 = DF-specific, as for passwords. */
  privateKey(folder: DedicatedFile, reference: number): PrivateKey | undefined {
    const id = reference & 0x1f;
    const search = (reference & 0x80) !== 0 ? [...this.upwards(folder)] : [this.root];
    for (const f of search) {
      const hit = f.children.find((c): c is PrivateKey => c.kind === 'privateKey' && c.id === id);
      if (hit) return hit;
    }
    return undefined;
  }

  /** All public keys of the object system (they are addressed by CHR, independent of the folder). */
  publicKeys(): PublicKey[] {
    const out: PublicKey[] = [];
    for (const f of this.folders) for (const c of f.children) if (c.kind === 'publicKey') out.push(c);
    return out;
  }

  publicKey(reference: Buffer): PublicKey | undefined {
    return this.publicKeys().find((k) => k.reference.equals(reference));
  }
}

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const DEV_SECRET_MARK = 'dev-only-';
const FORMAT = 'v1';

/** Accepts 64 hex characters, base64 of 32 bytes, or the development default (refused in production). */
export function isValidEncryptionKey(raw: string): boolean {
  try {
    decodeKey(raw);
    return true;
  } catch {
    return false;
  }
}

function decodeKey(raw: string): Buffer {
  // The development default is not key material: it is stretched to 32 bytes so local runs need no setup.
  if (raw.startsWith(DEV_SECRET_MARK)) return createHash('sha256').update(raw).digest();
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new Error('encryption key must be 32 bytes');
  return bytes;
}

/**
 * AES-256-GCM for API keys at rest. The connection's identity is bound as additional authenticated data,
 * so a ciphertext copied onto another row (or another tenant) fails to decrypt instead of leaking a key.
 */
export class CredentialsCipher {
  private readonly key: Buffer;

  constructor(rawKey: string) {
    this.key = decodeKey(rawKey);
  }

  encrypt(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      FORMAT,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      ciphertext.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string, boundTo: string): string {
    const [format, iv, tag, ciphertext] = sealed.split(':');
    if (format !== FORMAT || !iv || !tag || ciphertext === undefined)
      throw new Error('unknown credential format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  }
}

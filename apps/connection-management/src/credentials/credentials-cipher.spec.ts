import { randomBytes } from 'node:crypto';
import { CredentialsCipher, isValidEncryptionKey } from './credentials-cipher';

describe('CredentialsCipher', () => {
  const cipher = new CredentialsCipher(randomBytes(32).toString('base64'));

  it('round-trips a key without keeping it readable', () => {
    const sealed = cipher.encrypt('secret-api-key-1234', 'contoso/c1');
    expect(sealed).not.toContain('secret-api-key');
    expect(cipher.decrypt(sealed, 'contoso/c1')).toBe('secret-api-key-1234');
  });

  it('refuses a ciphertext moved to another connection', () => {
    const sealed = cipher.encrypt('secret-api-key-1234', 'contoso/c1');
    expect(() => cipher.decrypt(sealed, 'fabrikam/c1')).toThrow();
  });

  it('uses a fresh IV per encryption', () => {
    expect(cipher.encrypt('k', 'a')).not.toBe(cipher.encrypt('k', 'a'));
  });

  it('accepts hex, base64 and the development default, and nothing else', () => {
    expect(isValidEncryptionKey(randomBytes(32).toString('hex'))).toBe(true);
    expect(isValidEncryptionKey(randomBytes(32).toString('base64'))).toBe(true);
    expect(isValidEncryptionKey('dev-only-anything')).toBe(true);
    expect(isValidEncryptionKey(randomBytes(16).toString('base64'))).toBe(false);
  });
});

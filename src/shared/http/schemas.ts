import { z } from 'zod';

/**
 * Control characters (C0 including NUL, DEL, C1) and the bidirectional overrides and isolates
 * (U+202A–202E, U+2066–2069): invisible, or able to reorder what an admin reads ("Trojan Source").
 * Refused in every stored name; ordinary spaces, letters of any script and emoji stay allowed.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
export const UNSAFE_TEXT_MESSAGE = 'must not contain control characters or bidirectional overrides';
export const hasUnsafeText = (text: string) => UNSAFE_TEXT.test(text);

/** A stored single-line text (names, titles): trimmed, bounded, without control characters or bidi overrides. */
export const textField = (max: number, min = 1) =>
  z
    .string({ message: 'must be a string' })
    .trim()
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((text) => !hasUnsafeText(text), UNSAFE_TEXT_MESSAGE);

/** Field schemas shared by several routers. Strings are trimmed and bounded; emails are compared lower-case. */
export const nameField = textField(100);
export const emailField = z
  .string({ message: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(255, 'must be at most 255 characters')
  .pipe(z.email({ message: 'must be an email address' }));

/** NIST SP 800-63B: at least 8 characters for a password a user chooses. */
export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads only the first 72 bytes; longer passwords would silently collide, so they are refused. */
export const PASSWORD_MAX_BYTES = 72;
const passwordString = z.string({ message: 'must be a string' }).min(1, 'must not be empty');
const withinBcrypt = (p: string) => Buffer.byteLength(p) <= PASSWORD_MAX_BYTES;
/** A password presented at login: any non-empty one up to bcrypt's limit (accounts made before the length rule keep theirs). */
export const passwordField = passwordString.refine(withinBcrypt, `must be at most ${PASSWORD_MAX_BYTES} bytes`);
/** A password being set (registration, update): 8 characters or more, at most 72 bytes. */
export const newPasswordField = passwordString
  .refine((p) => [...p].length >= PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .refine(withinBcrypt, `must be at most ${PASSWORD_MAX_BYTES} bytes (bcrypt's limit)`);
export const namePattern = z.string().max(100, 'must be at most 100 characters').optional();

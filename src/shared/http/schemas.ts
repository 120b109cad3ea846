import { z } from 'zod';

/** Field schemas shared by several routers. Strings are trimmed and bounded; emails are compared lower-case. */
export const nameField = z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
export const emailField = z
  .string({ message: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(255, 'must be at most 255 characters')
  .pipe(z.email({ message: 'must be an email address' }));
// bcrypt reads only the first 72 bytes; longer passwords would silently collide.
export const passwordField = z
  .string({ message: 'must be a string' })
  .min(1, 'must not be empty')
  .refine((p) => Buffer.byteLength(p) <= 72, 'must be at most 72 bytes');
export const namePattern = z.string().max(100, 'must be at most 100 characters').optional();

import { Matches } from 'class-validator';

/**
 * A single-line name shown in a dashboard: no control characters (PostgreSQL text cannot hold
 * NUL, and a newline in a name is never meant).
 */
export const IsPlainName = (): PropertyDecorator =>
  Matches(/^\P{Cc}*$/u, { message: ({ property }) => `${property} must not contain control characters` });

/** Free text: line breaks and tabs are fine, NUL (which PostgreSQL cannot store) is not. */
export const IsStorableText = (): PropertyDecorator =>
  Matches(/^[^\u0000]*$/u, { message: ({ property }) => `${property} must not contain NUL characters` });

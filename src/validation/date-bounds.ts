import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsDate, MaxDate, MinDate, isISO8601 } from 'class-validator';

/**
 * The dates a request may carry. The database and its drivers handle a narrower range than
 * JavaScript (years 0001–9999 in ISO-8601 without an expanded year); outside these bounds a
 * date is refused with 400 instead of failing in the database. Usage began long after 1970.
 */
export const EARLIEST_DATE = new Date('1970-01-01T00:00:00.000Z');
export const LATEST_DATE = new Date('9999-12-31T23:59:59.999Z');

/**
 * Turns an ISO-8601 string into a Date and leaves anything else as it is, for IsDate to refuse:
 * a number would otherwise be taken as milliseconds (`expires_at: 1767225600` is January 1970),
 * and `new Date()` reads loose forms such as "March 5" that no client means.
 */
export const ToIsoDate = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && isISO8601(value, { strict: true }) ? new Date(value) : value));

/** An ISO-8601 date-time within the bounds above, converted to a Date. */
export const IsBoundedDate = (): PropertyDecorator =>
  applyDecorators(
    ToIsoDate(),
    IsDate({ message: ({ property }) => `${property} must be an ISO-8601 date-time` }),
    MinDate(EARLIEST_DATE, { message: ({ property }) => `${property} must be between 1970-01-01 and 9999-12-31` }),
    MaxDate(LATEST_DATE, { message: ({ property }) => `${property} must be between 1970-01-01 and 9999-12-31` }),
  );

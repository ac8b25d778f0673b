import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { FieldProblem, dtoTransformer, fieldName, problemsOf } from '../validation/dto-transformer';
import { AppError, FieldError } from './app-error';

/** At most this many `details`; the message tells how many more there were. */
export const MAX_DETAILS = 20;
const MAX_FIELD_LENGTH = 200;

/** A field name as `details` show it: a caller's key can be 64 KiB long, the answer need not be. */
export function shownField(field: string): string {
  return field.length > MAX_FIELD_LENGTH ? `${field.slice(0, MAX_FIELD_LENGTH)}…` : field;
}

/** class-validator's tree as `[{field, message}]` with dotted field paths, without walking past what is shown. */
function* fieldErrors(errors: ValidationError[], parent = ''): Generator<FieldError> {
  for (const error of errors) {
    const field = shownField(parent ? `${parent}.${error.property}` : error.property);
    for (const message of Object.values(error.constraints ?? {})) {
      // class-validator words unknown fields as "property x should not exist"
      yield { field, message: message.startsWith('property ') ? `${field} is not a known field` : message };
    }
    yield* fieldErrors(error.children ?? [], field);
  }
}

/** The first MAX_DETAILS problems, and how many there are in all. */
function firstDetails(errors: ValidationError[], problems: readonly FieldProblem[] = []): { details: FieldError[]; total: number } {
  const details: FieldError[] = [];
  let total = 0;
  for (const detail of fieldErrors(errors)) {
    total += 1;
    if (details.length < MAX_DETAILS) details.push(detail);
  }
  for (const [path, problem] of problems.slice(0, Math.max(0, MAX_DETAILS - details.length))) {
    const field = shownField(fieldName(path));
    details.push({ field, message: `${field} ${problem}` });
  }
  return { details, total: total + problems.length };
}

export function validationFailure(errors: ValidationError[], problems?: readonly FieldProblem[]): AppError {
  const { details, total } = firstDetails(errors, problems);
  if (total === 0) return AppError.validation('Request body must be a JSON object.', []);
  const more = total - details.length;
  return AppError.validation(
    more > 0
      ? `Request validation failed: the first ${details.length} of ${total.toLocaleString('en-US')} problems are listed (${more.toLocaleString('en-US')} more).`
      : 'Request validation failed.',
    details,
  );
}

/**
 * Body, query and path validation: unknown fields rejected whatever their name, values converted
 * to their types, free-form JSON kept exactly as sent (see dto-transformer.ts).
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformerPackage: dtoTransformer,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationFailure(errors),
    });
  }

  /**
   * A DTO is never an array or a scalar. Nest would still validate one as if it were (an array of
   * 40,000 items took a second); it is refused at once.
   */
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const notAnObject = Array.isArray(value) || (value !== null && value !== undefined && typeof value !== 'object');
    if (metadata.type === 'body' && notAnObject && this.toValidate(metadata)) throw AppError.validation('Request body must be a JSON object.');
    return super.transform(value, metadata);
  }

  /**
   * Nest deletes `__proto__`, `constructor` and `prototype` keys at every depth, so free-form JSON
   * would silently lose them. Nothing here needs it: the JSON parser refuses `__proto__` (and a
   * `constructor` holding `prototype`), and dtoTransformer hands class-transformer only declared
   * fields — any other key, whatever its name, is refused as unknown.
   */
  protected override stripProtoKeys(): void {}

  /** JSON and query strings never make sparse arrays; Nest's search for gaps costs a string per array index. */
  protected override closeArrayGaps(): void {}

  /** Unknown fields are found before class-transformer runs (it never sees them); they join class-validator's errors here. */
  protected override async validate(object: object, options?: ValidatorOptions): Promise<ValidationError[]> {
    const errors = await super.validate(object, options);
    const problems = problemsOf(object);
    if (problems) throw validationFailure(errors, problems);
    return errors;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe();
}

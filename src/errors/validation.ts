import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, FieldError } from './app-error';

/** Flattens class-validator's tree into `[{field, message}]` with dotted field paths. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator words unknown fields as "property x should not exist"
      message: message.startsWith('property ') ? `${field} is not a known field` : message,
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** Body, query and path validation: unknown fields rejected, values converted to their types. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = toFieldErrors(errors);
      return AppError.validation(details.length > 0 ? 'Request validation failed.' : 'Request body must be a JSON object.', details);
    },
  });
}

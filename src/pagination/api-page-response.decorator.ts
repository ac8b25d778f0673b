import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';

/** A `200` list response, `{ data: Item[], next_cursor }` (CONTRACT §7), with its item schema. */
export const ApiPageResponse = (item: Type<unknown>): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(item),
    ApiOkResponse({
      description: 'One page, newest first',
      schema: {
        type: 'object',
        required: ['data', 'next_cursor'],
        properties: {
          data: { type: 'array', items: { $ref: getSchemaPath(item) } },
          next_cursor: {
            type: 'string',
            nullable: true,
            description: 'Pass as `?cursor=` for the next page; null on the last page',
          },
        },
      },
    }),
  );

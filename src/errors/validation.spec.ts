import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { AppError } from './app-error';
import { RequestValidationPipe } from './validation';

class ItemDto {
  @IsString()
  label!: string;

  @IsOptional()
  @IsObject()
  extra?: Record<string, unknown>;
}

class ParentDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  count?: number;

  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @IsOptional()
  @ValidateNested()
  @Type(() => ItemDto)
  item?: ItemDto;

  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => ItemDto)
  items?: ItemDto[];
}

const sut = new RequestValidationPipe();
const body = (value: unknown) => sut.transform(value, { type: 'body', metatype: ParentDto });
const refusal = async (value: unknown) => {
  const error = await body(value).then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
};

describe('RequestValidationPipe', () => {
  it('hands free-form JSON to the handler exactly as parsed, at any depth', async () => {
    const data = { toString: 1, constructor: { prototype: 2 }, hasOwnProperty: [3], nested: { valueOf: null } };
    const extra = { __defineGetter__: 'x' };
    const parsed = { count: '7', data, item: { label: 'a', extra }, items: [{ label: 'b', extra }] };
    const dto = (await body(parsed)) as ParentDto;
    expect(dto).toBeInstanceOf(ParentDto);
    expect(dto.item).toBeInstanceOf(ItemDto);
    expect(dto.items?.[0]).toBeInstanceOf(ItemDto);
    expect({ count: dto.count, data: dto.data, extra: dto.item?.extra, itemExtra: dto.items?.[0].extra }).toEqual({ count: 7, data, extra, itemExtra: extra });
    expect(dto.data).toBe(data);
  });

  it('refuses unknown keys whatever their name, at every level, with the other problems', async () => {
    const error = await refusal({ count: 'x', toString: 1, item: { label: 2, constructor: 1 }, items: [{ label: 'ok', valueOf: 1 }] });
    expect(error.extra.details).toEqual([
      { field: 'count', message: 'count must be an integer number' },
      { field: 'item.label', message: 'label must be a string' },
      { field: 'toString', message: 'toString is not a known field' },
      { field: 'item.constructor', message: 'item.constructor is not a known field' },
      { field: 'items.0.valueOf', message: 'items.0.valueOf is not a known field' },
    ]);
  });

  it('refuses once a nested object sent as an array, and a body that is not an object', async () => {
    expect((await refusal({ item: [{ label: 'a' }, { label: 'b' }] })).extra.details).toEqual([{ field: 'item', message: 'item must be a JSON object' }]);
    for (const value of [[{}], 'text', 42, true]) expect((await refusal(value)).message).toBe('Request body must be a JSON object.');
  });

  it('lists the first 20 problems and counts them all', async () => {
    const error = await refusal(Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`unknown${index}`, index])));
    expect(error.message).toBe('Request validation failed: the first 20 of 30 problems are listed (10 more).');
    expect(error.extra.details).toHaveLength(20);
  });
});

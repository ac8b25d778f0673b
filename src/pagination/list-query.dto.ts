import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 20;

/** `?limit=` (1–100, default 20) and `?cursor=` — the `next_cursor` of the previous page. */
export class ListQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ pattern: '^[a-z]+_[0-9a-f]{28}$', description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[a-z]+_[0-9a-f]{28}$/, { message: 'cursor must be the next_cursor of a previous page' })
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * Rows are fetched with `take: limit + 1` in id-descending order; the extra row only tells that
 * another page exists, and the last row shown is where it starts.
 */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const shown = rows.slice(0, limit);
  return { data: shown.map(present), next_cursor: rows.length > limit ? shown[shown.length - 1].id : null };
}

/** Prisma arguments for one page: newest first, strictly after the cursor. */
export function pageArgs(query: ListQueryDto): { take: number; orderBy: { id: 'desc' }; cursorWhere: { id?: { lt: string } } } {
  return {
    take: (query.limit ?? DEFAULT_PAGE_SIZE) + 1,
    orderBy: { id: 'desc' },
    cursorWhere: query.cursor ? { id: { lt: query.cursor } } : {},
  };
}

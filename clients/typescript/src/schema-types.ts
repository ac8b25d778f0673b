// Types read off the generated document by path and status, not by schema name: paths are the
// contract, schema names are not, so a renamed schema never breaks the client.
import type { paths } from './generated/schema';

export type { components, paths } from './generated/schema';

export type Method = 'get' | 'post' | 'delete';

type JsonBody<R> = R extends { content: { 'application/json': infer Body } } ? Body : never;
type Responses<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R } ? R : never;

/** The JSON body of a call's success (200 or 201). */
export type ResponseBody<P extends keyof paths, M extends Method> = JsonBody<
  Responses<P, M>[(200 | 201) & keyof Responses<P, M>]
>;

/** `{ error: { code, message, request_id, … } }`, the envelope of every error. */
export type ErrorEnvelope = JsonBody<Responses<'/v1/api-keys/{id}', 'get'>[404]>;
export type ErrorCode = ErrorEnvelope['error']['code'];
export type FieldError = NonNullable<ErrorEnvelope['error']['details']>[number];

export type ApiKey = ResponseBody<'/v1/api-keys/{id}', 'get'>;
/** A key as created or rotated: with `key`, its secret, shown this once. */
export type CreatedApiKey = ResponseBody<'/v1/api-keys', 'post'>;
export type Dataset = ResponseBody<'/v1/datasets/{id}', 'get'>;
export type Organization = ResponseBody<'/v1/organization', 'get'>;

type GetPath = { [P in keyof paths]: paths[P] extends { get: { responses: unknown } } ? P : never }[keyof paths];
type QueryOf<P extends GetPath> = paths[P]['get'] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type PathParamsOf<P extends GetPath> = paths[P]['get'] extends { parameters: { path?: infer T } } ? T : never;

/** The list endpoints: `GET`, no path parameters, a `{ data: [...], next_cursor }` page. */
export type ListPath = {
  [P in GetPath]: [ResponseBody<P, 'get'>] extends [never]
    ? never
    : [PathParamsOf<P>] extends [never | undefined]
      ? ResponseBody<P, 'get'> extends { data: readonly unknown[]; next_cursor: string | null }
        ? P
        : never
      : never;
}[GetPath];

export type ListItem<P extends ListPath> = ResponseBody<P, 'get'> extends { data: readonly (infer Item)[] } ? Item : never;
/** A list's filters and page size; the cursor is the iterator's to follow. */
export type ListQuery<P extends ListPath> = Omit<QueryOf<P>, 'cursor'>;

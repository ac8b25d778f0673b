/** The embedded database's folder cannot be used as it is; the message says why and what to do. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

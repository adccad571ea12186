// The API's errors: an HTTP status, a stable code, and the field at fault where there is one.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** A 422 naming the field: code `invalid_<field>`. */
export function invalid(field: string, message: string): ApiError {
  return new ApiError(422, `invalid_${field.replace(/[^a-z0-9_]/gi, '_')}`, `${field}: ${message}`, field);
}

/** The `code` of an error thrown by the core (its stable error kind), or undefined. */
export function coreCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

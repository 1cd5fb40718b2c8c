/**
 * What a control-plane operation refuses, whoever called it: the management API turns these into
 * RFC 9457 problems (404, 409, 400, 403), the CLI into a message and an exit code.
 */
export class AdminError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'invalid_field' | 'forbidden',
    message: string,
    /** invalid_field: the field at fault, dotted (`redirect_uris.0`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFound extends AdminError {
  constructor(what: string) {
    super('not_found', `${what} was not found`);
  }
}

export class Conflict extends AdminError {
  constructor(detail: string) {
    super('conflict', detail);
  }
}

export class InvalidField extends AdminError {
  constructor(field: string, message: string) {
    super('invalid_field', `${field}: ${message}`, field);
  }
}

export class Forbidden extends AdminError {
  constructor(detail: string) {
    super('forbidden', detail);
  }
}

/** user-service answered 200, but with something that is not a user (null, an empty body, wrong field types). */
export class NotAUserError extends Error {
  constructor(
    /** What was wrong, for the log (never for the browser): `name must be a string`. */
    readonly problems: string,
  ) {
    super("user-service's answer was not a user");
    this.name = 'NotAUserError';
  }
}

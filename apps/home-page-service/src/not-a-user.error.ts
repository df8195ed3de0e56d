/** user-service answered 200, but with something that is not a user, or not a list of users (null, an empty body, wrong field types). */
export class NotAUserError extends Error {
  constructor(
    /** What was wrong, for the log (never for the browser): `name must be a string`. */
    readonly problems: string,
    /** What was expected: `a user`, `a list of users`. */
    expected = 'a user',
  ) {
    super(`user-service's answer was not ${expected}`);
    this.name = 'NotAUserError';
  }
}

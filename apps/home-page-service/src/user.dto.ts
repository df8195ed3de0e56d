import { IsInt, IsNotEmpty, IsString, Min, validateSync } from 'class-validator';
import { NotAUserError } from './not-a-user.error';

/** The user as home-page-service needs it from user-service. */
export interface UserView {
  id: number;
  name: string;
  email: string;
  phone: string;
}

/** class-validator schema of a user in user-service's answer. */
export class UserDto implements UserView {
  @IsInt() @Min(1) id!: number;
  @IsString() @IsNotEmpty() name!: string;
  @IsString() @IsNotEmpty() email!: string;
  @IsString() @IsNotEmpty() phone!: string;
}

/**
 * The user in user-service's answer, checked field by field; anything else
 * (null, an empty body, an array, a field of the wrong type) is a NotAUserError.
 * Only the four fields are copied: nothing else from the answer travels on.
 */
export function userFromAnswer(answer: unknown): UserView {
  if (answer === null || answer === undefined || typeof answer !== 'object' || Array.isArray(answer)) {
    throw new NotAUserError(`expected a JSON object, got ${kindOf(answer)}`);
  }
  return checkedUser(answer);
}

/** The users in user-service's answer to GET /users: a JSON array of users, each checked as by userFromAnswer. */
export function usersFromAnswer(answer: unknown): UserView[] {
  if (!Array.isArray(answer)) throw new NotAUserError(`expected a JSON array of users, got ${kindOf(answer)}`, 'a list of users');
  return answer.map((item, n) => {
    try {
      return userFromAnswer(item);
    } catch (err) {
      throw new NotAUserError(`user ${n + 1}: ${(err as NotAUserError).problems}`, 'a list of users');
    }
  });
}

function checkedUser(answer: object): UserView {
  const { id, name, email, phone } = answer as Record<string, unknown>;
  const dto = Object.assign(new UserDto(), { id, name, email, phone });
  const errors = validateSync(dto, { forbidUnknownValues: true });
  if (errors.length > 0) throw new NotAUserError(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; '));
  return { id: dto.id, name: dto.name, email: dto.email, phone: dto.phone };
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'an empty body';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

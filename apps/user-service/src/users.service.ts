import { Injectable, NotFoundException } from '@nestjs/common';

/** A user as user-service hands it out. */
export interface User {
  id: number;
  name: string;
  email: string;
  phone: string;
}

const USERS: User[] = [
  { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' },
  { id: 2, name: 'Alan Turing', email: 'alan@example.com', phone: '+44 20 7946 0002' },
];

/** The protected data: an in-memory user store. */
@Injectable()
export class UsersService {
  /** Every user. */
  findAll(): User[] {
    return USERS.map((u) => ({ ...u }));
  }

  findOne(id: number): User {
    const user = USERS.find((u) => u.id === id);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }
}

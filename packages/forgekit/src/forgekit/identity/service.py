"""Identity rules: registration, login, email verification, password reset, teams.

Services raise :mod:`forgekit.errors` problems and commit explicitly, so that an outbox event
and the change that caused it share one transaction.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from forgekit.events.outbox import enqueue
from forgekit.identity.events import (
    USER_PASSWORD_RESET_REQUESTED,
    USER_REGISTERED,
    USER_VERIFICATION_REQUESTED,
    AccountEvent,
)
from forgekit.identity.mfa.service import MfaChallenge, mfa
from forgekit.identity.models import Team, TeamMember, User
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import KitPermission, Permission, Role, check_role, role_has
from forgekit.identity.repository import TeamMemberRepository, TeamRepository, UserRepository
from forgekit.identity.schemas import (
    MemberAdd,
    MemberRead,
    RegisterRequest,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    normalize_email,
)
from forgekit.identity.security import password_hasher
from forgekit.identity.tokens import TokenPair, TokenPurpose, one_time_tokens, sessions
from forgekit.ratelimit import RateLimitDecision, RateLimiter, headers, parse_rate
from forgekit.settings import ForgeSettings

#: The one answer to every failed login: which part was wrong is not revealed.
BAD_CREDENTIALS = "Incorrect username or password."


def _password_too_short(settings: ForgeSettings, password: str, field: str) -> None:
    if len(password) < settings.password_min_length:
        message = f"must be at least {settings.password_min_length} characters"
        raise Unprocessable(
            f"The password {message}.",
            errors=[{"field": f"body.{field}", "message": message, "type": "string_too_short"}],
        )


# --- failed-login limiting --------------------------------------------------------------------


@dataclass(frozen=True)
class LoginThrottle:
    """Two limits on password logins.

    * attempts per client address (``login_attempts_per_ip``), counted on every attempt:
      one address cannot spray guesses across many accounts;
    * failures per account (``login_failures_per_account``), counted on failures only and
      reset by a success: one account cannot be guessed at from many addresses. It is
      checked *before* the password so a locked account gives no signal, even for the
      right password.

    Unknown usernames are counted under their name, so they behave exactly like real ones.
    """

    limiter: RateLimiter
    settings: ForgeSettings

    @property
    def enabled(self) -> bool:
        """False when rate limiting is switched off in settings."""
        return self.settings.rate_limit_enabled

    @staticmethod
    def account_key(user: User | None, identifier: str) -> str:
        """The limiter key of an account: its id, or the name tried when there is none."""
        return f"login:account:{user.id if user is not None else 'name:' + identifier}"

    async def check_ip(self, ip: str) -> None:
        """Count an attempt from ``ip``; 429 when the address is over its limit."""
        if self.enabled:
            rate = parse_rate(self.settings.login_attempts_per_ip)
            _raise_if_denied(await self.limiter.hit(f"login:ip:{ip}", rate), "address")

    async def check_account(self, key: str) -> None:
        """429 when the account has used up its failures (counts nothing)."""
        if self.enabled:
            rate = parse_rate(self.settings.login_failures_per_account)
            _raise_if_denied(await self.limiter.peek(key, rate), "account")

    async def record_failure(self, key: str) -> None:
        """Count a failed login against the account."""
        if self.enabled:
            await self.limiter.hit(key, parse_rate(self.settings.login_failures_per_account))

    async def record_success(self, key: str) -> None:
        """Forget the account's failures."""
        if self.enabled:
            await self.limiter.reset(key)


def _raise_if_denied(decision: RateLimitDecision, what: str) -> None:
    if decision.allowed:
        return
    retry = max(1, math.ceil(decision.retry_after_s))
    raise TooManyRequests(
        f"Too many login attempts for this {what}; retry in {retry} s.",
        headers=headers(decision),
        retry_after=retry,
    )


# --- users and sessions -----------------------------------------------------------------------


class AuthService:
    """Accounts and password logins."""

    async def register(
        self, session: AsyncSession, settings: ForgeSettings, data: RegisterRequest
    ) -> User:
        """Create an account and enqueue ``user.registered`` (which mails the verification
        link) in the same transaction. 409 when the email or username is taken."""
        _password_too_short(settings, data.password, "password")
        users = UserRepository(session)
        email_taken, username_taken = await users.taken(email=data.email, username=data.username)
        if email_taken or username_taken:
            raise _taken(email_taken)
        user = User(
            email=data.email,
            username=data.username,
            password_hash=await password_hasher(settings).hash(data.password),
            role=check_role(settings.default_user_role),
        )
        try:
            await users.add(user)
        except IntegrityError:
            # Lost a race with a concurrent registration of the same name.
            await session.rollback()
            email_taken, _ = await users.taken(email=data.email, username=data.username)
            raise _taken(email_taken) from None
        await enqueue(
            session,
            USER_REGISTERED,
            AccountEvent(user_id=user.id, email=user.email, username=user.username),
            metadata={"actor_id": str(user.id)},
        )
        await session.commit()
        return user

    async def login(
        self,
        session: AsyncSession,
        settings: ForgeSettings,
        throttle: LoginThrottle,
        *,
        identifier: str,
        password: str,
        ip: str,
    ) -> TokenPair | MfaChallenge:
        """Check a username-or-email and password; issue a session. Commits.

        Unknown, inactive and deleted accounts cost one argon2 verification like a wrong
        password and get the same message, so neither timing nor text reveals accounts.
        An account with MFA gets a challenge instead, completed at ``/auth/mfa/verify``.
        """
        await throttle.check_ip(ip)
        identifier = identifier.strip().lower()
        user = await UserRepository(session).get_by_login(identifier)
        key = throttle.account_key(user, identifier)
        await throttle.check_account(key)
        # End the read-only transaction before the deliberately slow hash, so its database
        # connection (and on SQLite the write lock) is not held while the CPU works; the
        # writes below start a new one. expire_on_commit=False keeps ``user`` usable.
        await session.commit()
        hasher = password_hasher(settings)
        if user is None:
            await hasher.verify_dummy(password)
            ok = False
        else:
            ok = await hasher.verify(user.password_hash, password) and user.is_active
        if not ok or user is None:
            await throttle.record_failure(key)
            raise Unauthorized(BAD_CREDENTIALS)
        await throttle.record_success(key)
        if hasher.needs_rehash(user.password_hash):
            # Costs were raised (or the hash predates argon2id): upgrade while we know the
            # password, the only moment we can.
            user.password_hash = await hasher.hash(password)
        if await mfa.is_enrolled(session, user.id):
            await session.commit()
            return mfa.challenge(settings, user)
        user.last_login_at = utcnow()
        pair = await sessions.issue(session, settings, user)
        await session.commit()
        return pair

    async def request_verification(self, session: AsyncSession, user: User) -> None:
        """Enqueue another verification email; 409 when already verified. Commits."""
        if user.is_verified:
            raise Conflict("The email address is already verified.")
        await enqueue(
            session,
            USER_VERIFICATION_REQUESTED,
            AccountEvent(user_id=user.id, email=user.email, username=user.username),
            metadata={"actor_id": str(user.id)},
        )
        await session.commit()

    async def verify_email(self, session: AsyncSession, token: str) -> User:
        """Spend a verification token and mark its user verified. Commits."""
        user = await one_time_tokens.consume(session, TokenPurpose.VERIFY_EMAIL, token)
        if not user.is_verified:
            user.is_verified = True
            user.email_verified_at = utcnow()
        await session.commit()
        return user

    async def request_password_reset(self, session: AsyncSession, email: str) -> None:
        """Enqueue a reset email when an active account has this address; silent otherwise."""
        user = await UserRepository(session).get_by_email(normalize_email(email))
        if user is None or not user.is_active:
            return
        await enqueue(
            session,
            USER_PASSWORD_RESET_REQUESTED,
            AccountEvent(user_id=user.id, email=user.email, username=user.username),
            metadata={"actor_id": str(user.id)},
        )
        await session.commit()

    async def reset_password(
        self,
        session: AsyncSession,
        settings: ForgeSettings,
        throttle: LoginThrottle,
        *,
        token: str,
        new_password: str,
    ) -> None:
        """Spend a reset token, set the password and end every session of the account."""
        _password_too_short(settings, new_password, "new_password")
        user = await one_time_tokens.consume(session, TokenPurpose.PASSWORD_RESET, token)
        user.password_hash = await password_hasher(settings).hash(new_password)
        if not user.is_verified:
            # The link reached the mailbox, which is what verification proves.
            user.is_verified = True
            user.email_verified_at = utcnow()
        await sessions.revoke_all(session, user.id)
        await session.commit()
        # The owner proved control of the mailbox: lift a lockout an attacker may have caused.
        await throttle.record_success(throttle.account_key(user, user.username))


def _taken(email: bool) -> Conflict:
    if email:
        return Conflict("An account with this email already exists.", field="email")
    return Conflict("This username is taken.", field="username")


# --- teams ------------------------------------------------------------------------------------


TEAM_NOT_FOUND = "Team not found."


def _team_read(team: Team, role: str | None) -> TeamRead:
    return TeamRead(
        id=team.id,
        name=team.name,
        description=team.description,
        created_at=team.created_at,
        updated_at=team.updated_at,
        role=role,
    )


def _member_read(member: TeamMember, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id, username=user.username, role=member.role, joined_at=member.created_at
    )


class TeamService:
    """Teams and memberships.

    A team is invisible (404) to anyone but its members and admins, so a team id reveals
    nothing to an outsider (no IDOR, no existence oracle). Members need the permission in
    both their scopes and their team role; admins need it in their scopes only.
    """

    async def _authorize(
        self,
        session: AsyncSession,
        principal: Principal,
        team_id: uuid.UUID,
        permission: Permission,
    ) -> tuple[Team, TeamMember | None]:
        team = await TeamRepository(session).get(team_id)
        member = (
            await TeamMemberRepository(session).get_membership(team_id, principal.user_id)
            if team is not None
            else None
        )
        if team is None or (member is None and not principal.is_admin):
            raise NotFound(TEAM_NOT_FOUND)
        if not principal.has(permission):
            raise Forbidden(f"Missing scope: {permission}.", missing_scopes=[str(permission)])
        if not principal.is_admin and member is not None and not role_has(member.role, permission):
            raise Forbidden(f"Your role in this team ({member.role}) does not allow this.")
        return team, member

    async def create(
        self, session: AsyncSession, principal: Principal, data: TeamCreate
    ) -> TeamRead:
        """Create a team owned by the caller. Commits."""
        team = Team(name=data.name, description=data.description)
        await TeamRepository(session).add(team)
        member = TeamMember(team_id=team.id, user_id=principal.user_id, role=Role.OWNER.value)
        await TeamMemberRepository(session).add(member)
        await session.commit()
        return _team_read(team, member.role)

    async def list_for(self, session: AsyncSession, principal: Principal) -> list[TeamRead]:
        """The caller's teams, with the caller's role in each."""
        rows = (
            await session.execute(
                TeamRepository(session)
                .select_for_user(principal.user_id)
                .add_columns(TeamMember.role)
            )
        ).all()
        return [_team_read(team, role) for team, role in rows]

    async def get(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID
    ) -> TeamRead:
        """One team (404 to non-members)."""
        team, member = await self._authorize(session, principal, team_id, KitPermission.TEAM_READ)
        return _team_read(team, member.role if member else None)

    async def update(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID, data: TeamUpdate
    ) -> TeamRead:
        """Change a team's name or description. Commits."""
        team, member = await self._authorize(session, principal, team_id, KitPermission.TEAM_WRITE)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("name", "") is None:
            raise Unprocessable("A team's name cannot be null.")
        await TeamRepository(session).update(team, changes)
        await session.commit()
        return _team_read(team, member.role if member else None)

    async def delete(self, session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> None:
        """Soft-delete a team (owners and admins). Commits."""
        team, _ = await self._authorize(session, principal, team_id, KitPermission.TEAM_DELETE)
        await TeamRepository(session).delete(team)
        await session.commit()

    async def members(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID
    ) -> list[MemberRead]:
        """A team's members."""
        await self._authorize(session, principal, team_id, KitPermission.TEAM_READ)
        rows: Sequence[TeamMember] = await TeamMemberRepository(session).list_with_users(team_id)
        return [_member_read(m, m.user) for m in rows]

    async def add_member(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID, data: MemberAdd
    ) -> MemberRead:
        """Add a user by id, username or email. 404 for no such user, 409 when a member."""
        await self._authorize(session, principal, team_id, KitPermission.TEAM_MANAGE_MEMBERS)
        users = UserRepository(session)
        if data.user_id is not None:
            user = await users.get(data.user_id)
        elif data.username is not None:
            user = await users.get_by_username(data.username.strip().lower())
        else:
            user = await users.get_by_email(normalize_email(data.email or ""))
        if user is None or not user.is_active:
            raise NotFound("User not found.")
        repo = TeamMemberRepository(session)
        if await repo.get_membership(team_id, user.id) is not None:
            raise Conflict("The user is already a member of this team.")
        member = TeamMember(team_id=team_id, user_id=user.id, role=data.role)
        try:
            await repo.add(member)
        except IntegrityError:
            await session.rollback()
            raise Conflict("The user is already a member of this team.") from None
        await session.commit()
        return _member_read(member, user)

    async def update_member(
        self,
        session: AsyncSession,
        principal: Principal,
        team_id: uuid.UUID,
        user_id: uuid.UUID,
        role: str,
    ) -> MemberRead:
        """Change a member's role; 409 when it would leave the team without an owner."""
        await self._authorize(session, principal, team_id, KitPermission.TEAM_MANAGE_MEMBERS)
        repo = TeamMemberRepository(session)
        await repo.lock_team(team_id)
        member = await repo.get_membership(team_id, user_id)
        if member is None:
            raise NotFound("Member not found.")
        if not await repo.set_role_keeping_an_owner(team_id, user_id, role):
            raise Conflict("A team needs at least one owner; promote another member first.")
        await session.commit()
        await session.refresh(member)
        user = await UserRepository(session).get(user_id, include_deleted=True)
        assert user is not None  # the membership's foreign key guarantees it
        return _member_read(member, user)

    async def remove_member(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Remove a member, or leave the team (any member may remove themself).

        409 for the team's last owner: a team without an owner could never be managed again.
        """
        leaving = user_id == principal.user_id
        permission = KitPermission.TEAM_READ if leaving else KitPermission.TEAM_MANAGE_MEMBERS
        await self._authorize(session, principal, team_id, permission)
        repo = TeamMemberRepository(session)
        await repo.lock_team(team_id)
        if await repo.get_membership(team_id, user_id) is None:
            raise NotFound("Member not found.")
        if not await repo.remove_keeping_an_owner(team_id, user_id):
            raise Conflict("A team needs at least one owner; promote another member first.")
        await session.commit()


auth = AuthService()
teams = TeamService()

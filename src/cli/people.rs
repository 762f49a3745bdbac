//! `tillit token`, `people`, `role` and `password`: people and their credentials.

use super::*;

pub(super) fn token_revoke(id: &str, database: &str) -> ExitCode {
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result =
        db.get().and_then(|mut conn| db::write(&mut conn, |conn| crate::auth::service::revoke_token(conn, None, id)));
    match result {
        Ok(revoked) => {
            println!("token {} revoked at {}", revoked.token_id, revoked.revoked_at);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

pub(super) fn people_list(org: &str, database: &str) -> ExitCode {
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        organisations::service::require(&mut conn, org)?;
        let users = crate::auth::store::users_of(&mut conn, org)?;
        let mut lines = Vec::new();
        for user in users {
            let roles: Vec<&str> =
                crate::auth::store::active_roles(&mut conn, &user.id)?.iter().map(|r| r.as_str()).collect();
            let state = if user.deactivated_at.is_some() { " (deactivated)" } else { "" };
            lines.push(format!("{}  {}{}  {}", user.id, user.name, state, roles.join(",")));
        }
        Ok(lines)
    });
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

pub(super) fn role_change(args: RoleArgs, grant: bool) -> ExitCode {
    let Some(role) = Role::parse(&args.role) else {
        return fail(format!("unknown role '{}': use coordinator, approver, auditor or admin", args.role));
    };
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        db::write(&mut conn, |conn| {
            if grant {
                let (user, _) = crate::auth::service::find_or_create_person(conn, &args.org, &args.name, None)?;
                crate::auth::service::grant_roles(conn, &user, &[role], None)?;
                Ok(user.id)
            } else {
                let user = crate::auth::store::find_user_by_name(conn, &args.org, args.name.trim())?
                    .ok_or(crate::error::AppError::NotFound)?;
                crate::auth::service::revoke_role_of(conn, &user, role, None)?;
                Ok(user.id)
            }
        })
    });
    match result {
        Ok(id) => {
            println!("{} {role} for {} ({id}) in {}", if grant { "granted" } else { "revoked" }, args.name, args.org);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

pub(super) fn token_create(args: TokenCreateArgs) -> ExitCode {
    let mut roles = Vec::new();
    for r in &args.roles {
        match Role::parse(r) {
            Some(role) => roles.push(role),
            None => {
                return fail(format!("unknown role '{r}': use coordinator, approver, auditor or admin"));
            }
        }
    }
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        crate::auth::service::create_token(&mut conn, &args.org, &args.name, &roles, &args.label, args.days)
    });
    match result {
        Ok(issued) => {
            let roles: Vec<&str> = issued.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "{} {} in {} with roles {}",
                if issued.user_created { "created person" } else { "person" },
                issued.user_id,
                args.org,
                roles.join(", ")
            );
            println!("token {} expires {}", issued.token_id, db::rfc3339(&issued.expires_at));
            println!("{}", issued.secret);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

pub(super) fn password_set(org: &str, name: &str, username: &str, database: &str) -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        return fail(format!("reading the password from standard input: {e}"));
    }
    let password = line.trim_end_matches(['\r', '\n']);
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result =
        db.get().and_then(|mut conn| crate::auth::sessions::set_password(&mut conn, org, name, username, password));
    match result {
        Ok(user_id) => {
            println!("{name} ({user_id}) in {org} signs in as {username}");
            ExitCode::SUCCESS
        }
        Err(crate::error::AppError::NotFound) => fail(format!("no person named '{name}' in {org}; create them first")),
        Err(e) => fail(error_text(&e)),
    }
}

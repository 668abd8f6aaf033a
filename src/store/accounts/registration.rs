//! Registration: a new customer and their account, with the checks on what they send, and
//! the email skeletons that keep look-alike addresses apart.

use super::{normalize_email, Account, Registration, MAX_FIELD_CHARS};
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};
use crate::store::{password, Role};

/// A trimmed required text field, or a 422 naming it.
fn required(field: &str, value: &str) -> ApiResult<String> {
    if value.trim().is_empty() {
        return Err(ApiError::Validation(format!("{field} is required")));
    }
    optional(field, Some(value)).map(|v| v.unwrap_or_default())
}

fn optional(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    // The length is of the value as sent, as the OpenAPI document's `maxLength` says.
    let long = value.is_some_and(|v| v.chars().count() > MAX_FIELD_CHARS);
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if long {
        return Err(ApiError::Validation(format!(
            "{field} has more than {MAX_FIELD_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    if let Some(problem) = crate::text::name_problem(field, value) {
        return Err(ApiError::Validation(problem));
    }
    Ok(Some(value.to_string()))
}

/// Creates a customer and their account. A taken email is a 409.
pub async fn register(db: &Db, form: Registration) -> ApiResult<Account> {
    let email = normalize_email(&form.email).map_err(ApiError::Validation)?;
    password::validate(&form.password).map_err(ApiError::Validation)?;
    let first_name = required("first_name", &form.first_name)?;
    let last_name = required("last_name", &form.last_name)?;
    let company = optional("company", form.company.as_deref())?;
    let address = optional("address", form.address.as_deref())?;
    let city = optional("city", form.city.as_deref())?;
    let state = optional("state", form.state.as_deref())?;
    let country = optional("country", form.country.as_deref())?;
    let postal_code = optional("postal_code", form.postal_code.as_deref())?;
    let phone = optional("phone", form.phone.as_deref())?;

    let looks = crate::store::email::skeleton(&email);
    let taken = || ApiError::Conflict(format!("an account with email {email} already exists"));
    let look_alike = || {
        ApiError::Conflict(format!(
            "email {email} looks like the address of an existing account (as `rn` can pass \
             for `m`, or `1` for `l`); use another address"
        ))
    };
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT email FROM account WHERE email = $1 OR email_skeleton = $2 \
         ORDER BY email = $1 DESC LIMIT 1",
    )
    .bind(&email)
    .bind(&looks)
    .fetch_optional(db.writer())
    .await?;
    match existing {
        Some(same) if same == email => return Err(taken()),
        Some(_) => return Err(look_alike()),
        None => {}
    }
    let password_hash = password::hash(form.password).await?;

    let mut tx = db.writer().begin().await?;
    // New customers go to the sales support agent with the fewest customers.
    let support_rep: Option<i64> = sqlx::query_scalar(
        "SELECT e.employee_id FROM employee e \
         LEFT JOIN customer c ON c.support_rep_id = e.employee_id \
         WHERE e.title = 'Sales Support Agent' \
         GROUP BY e.employee_id ORDER BY COUNT(c.customer_id), e.employee_id LIMIT 1",
    )
    .fetch_optional(&mut tx)
    .await?;
    let customer_id: i64 = sqlx::query_scalar(
        "INSERT INTO customer (first_name, last_name, company, address, city, state, country, \
         postal_code, phone, email, support_rep_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING customer_id",
    )
    .bind(&first_name)
    .bind(&last_name)
    .bind(company)
    .bind(address)
    .bind(city)
    .bind(state)
    .bind(country)
    .bind(postal_code)
    .bind(phone)
    .bind(&email)
    .bind(support_rep)
    .fetch_one(&mut tx)
    .await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO account (email, email_skeleton, password_hash, role, customer_id, \
         created_at) VALUES ($1, $2, $3, 'customer', $4, $5) RETURNING account_id",
    )
    .bind(&email)
    .bind(&looks)
    .bind(&password_hash)
    .bind(customer_id)
    .bind(db::timestamp_now())
    .fetch_one(&mut tx)
    .await;
    let account_id = match inserted {
        Ok(id) => id,
        // Two sign-ups with one email (or two look-alikes) raced past the check above; the
        // constraints decide.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(if e.message().contains("skeleton") {
                look_alike()
            } else {
                taken()
            });
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(Account {
        id: account_id,
        email,
        role: Role::Customer,
        customer_id: Some(customer_id),
        employee_id: None,
    })
}

/// Fills in the skeleton of accounts stored before it was kept (or seeded without it). An
/// address whose skeleton another account has already is left without one, and said so:
/// both keep signing in, and new look-alikes of either are still refused by the other's.
pub async fn backfill_email_skeletons(db: &Db) -> ApiResult<()> {
    let missing: Vec<(i64, String)> =
        sqlx::query_as("SELECT account_id, email FROM account WHERE email_skeleton IS NULL")
            .fetch_all(db.writer())
            .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut tx = db.writer().begin().await?;
    let mut clashes = Vec::new();
    for (id, email) in &missing {
        let looks = crate::store::email::skeleton(email);
        let clash: Option<i64> =
            sqlx::query_scalar("SELECT account_id FROM account WHERE email_skeleton = $1")
                .bind(&looks)
                .fetch_optional(&mut tx)
                .await?;
        if clash.is_some() {
            clashes.push(email.as_str());
            continue;
        }
        sqlx::query("UPDATE account SET email_skeleton = $1 WHERE account_id = $2")
            .bind(&looks)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    if !clashes.is_empty() {
        tracing::warn!(
            accounts = ?clashes,
            "these addresses look like another account's; they keep no skeleton of their own"
        );
    }
    tracing::info!(
        filled = missing.len() - clashes.len(),
        "email skeletons filled in"
    );
    Ok(())
}

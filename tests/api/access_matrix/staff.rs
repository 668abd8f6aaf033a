//! Staff within their scope: an agent sees the customers they support, a manager those of
//! their agents, an admin everyone; anyone else's customer is a 404 as if there were none,
//! and sales reports add up only what the caller may see.

use serde_json::json;

use super::roles::EMPLOYEES;
use super::{column, cursor, Who, World};

/// The customers an employee may see, as SQL over `customer c` and its rep `employee e`: an
/// agent's own, a manager's and their agents', everyone for an admin.
fn scope(world: &World, who: Who) -> (String, i64) {
    let (condition, id) = match who {
        Who::Agent => ("c.support_rep_id = $1", world.agent.id),
        Who::Manager => (
            "(c.support_rep_id = $1 OR e.reports_to = $1)",
            world.manager.id,
        ),
        _ => ("c.customer_id > $1", 0),
    };
    let sql = format!(
        "customer c LEFT JOIN employee e ON e.employee_id = c.support_rep_id WHERE {condition}"
    );
    (sql, id)
}

#[tokio::test]
async fn staff_see_exactly_the_customers_in_their_scope_and_others_are_404() {
    let world = World::open().await;
    let (app, shoppers) = (&world.app, &world.shoppers);
    let reps = "SELECT DISTINCT support_rep_id FROM customer WHERE support_rep_id > $1";
    let reps = column(app, reps, 0).await;
    let mut cases = Vec::new();
    let (mut scopes, mut sales) = (Vec::new(), Vec::new());
    for who in EMPLOYEES {
        let (scope, id) = scope(&world, who);
        let yours = column(app, &format!("SELECT c.customer_id FROM {scope}"), id).await;
        let others = format!(
            "SELECT customer_id FROM customer WHERE customer_id NOT IN \
             (SELECT c.customer_id FROM {scope})"
        );
        let others = column(app, &others, id).await;
        let cents = format!(
            "SELECT CAST(SUM(l.unit_price_cents * l.quantity) AS BIGINT) FROM invoice_line l \
             JOIN invoice i ON i.invoice_id = l.invoice_id WHERE i.customer_id IN \
             (SELECT c.customer_id FROM {scope})"
        );
        let cents = column(app, &cents, id).await[0];
        let list = "/api/v1/staff/customers?limit=100";
        cases.push(who.get(list).lists("id", &yours).never("id", &others));
        // Filtering by another's rep does not widen the scope.
        for rep in &reps {
            let filtered = format!("{list}&support_rep_id={rep}");
            cases.push(who.get(filtered).never("id", &others));
        }
        let report = "/api/v1/staff/reports/sales?group_by=country";
        cases.push(who.get(report).sums(cents));
        for s in shoppers {
            let customer = format!("/api/v1/staff/customers/{}", s.id);
            let invoice = format!("{customer}/invoices/{}", s.invoice);
            let list = format!("{customer}/invoices?limit=100");
            if yours.contains(&s.id) {
                cases.push(who.get(&customer).with("/id", json!(s.id)));
                cases.push(who.get(&list).lists("id", &s.invoices));
                cases.push(who.get(&invoice).with("/id", json!(s.invoice)));
                // Another customer's invoice under this customer's path is not there.
                for other in shoppers.iter().filter(|o| o.id != s.id) {
                    let path = format!("{customer}/invoices/{}", other.invoice);
                    cases.push(who.get(path).hidden(other.invoice));
                }
            } else {
                cases.push(who.get(&customer).hidden(s.id));
                cases.push(who.get(&list).hidden(s.id));
                cases.push(who.get(&invoice).hidden(s.id));
            }
        }
        scopes.push(yours);
        sales.push(cents);
    }
    let (a, b) = (&shoppers[0], &shoppers[1]);
    let (agent, manager) = (&scopes[0], &scopes[1]);
    assert!(
        agent.contains(&a.id) && !agent.contains(&b.id),
        "A is the agent's, B is not"
    );
    assert!(
        manager.contains(&a.id) && manager.contains(&b.id),
        "both are the manager's"
    );
    assert!(
        0 < sales[0] && sales[0] < sales[1] && sales[1] <= sales[2],
        "{sales:?}"
    );
    // The manager's cursor of A's invoices means nothing for B's.
    let path = format!("/api/v1/staff/customers/{}/invoices", a.id);
    let cursor = cursor(&world, &world.manager.token, &path).await;
    let path = format!(
        "/api/v1/staff/customers/{}/invoices?limit=1&cursor={cursor}",
        b.id
    );
    cases.push(Who::Manager.get(path).problem(400));
    world.run(&cases).await;
}

//! The OAuth apps contract: apps and access tokens round-trip, pages order by either time in
//! either direction from a position or an offset, filters narrow them, another organization
//! sees nothing, and deleting an app revokes its tokens.

use crate::fixtures::*;
use liaison_domain::scope::AccessScope;
use liaison_domain::*;
use liaison_store::*;

pub fn app(t: &Tenant, owner: UserId, created: i64) -> OAuthApp {
    OAuthApp {
        client_id: ClientId::new(),
        org: t.org,
        connection: t.connection,
        name: format!("app-{created}"),
        owner,
        secret_hash: format!("secret-{}", uuid::Uuid::now_v7().simple()),
        created_at: minute(created),
        // Updated in the opposite order to creation.
        updated_at: minute(100 - created),
        deleted_at: None,
    }
}

pub fn access_token(app: &OAuthApp, user: UserId, created: i64) -> AccessToken {
    AccessToken {
        id: AccessTokenId::new(),
        org: app.org,
        client_id: app.client_id,
        user,
        scope: AccessScope::Write,
        hash: format!("token-{}", uuid::Uuid::now_v7().simple()),
        expires_at: minute(created + 960),
        created_at: minute(created),
        updated_at: minute(created),
        revoked_at: None,
    }
}

fn page(sort: CredentialSort, descending: bool, limit: u32) -> CredentialPage {
    CredentialPage {
        sort,
        descending,
        limit,
        ..CredentialPage::default()
    }
}

fn names(apps: &[OAuthApp]) -> Vec<&str> {
    apps.iter().map(|a| a.name.as_str()).collect()
}

pub async fn apps_round_trip_and_page<S: Store>(store: &S) {
    let t = tenant(store).await;
    let other = tenant(store).await;
    let (owner, someone) = (UserId::new(), UserId::new());
    let mine: Vec<OAuthApp> = (1..=3).map(|m| app(&t, owner, m)).collect();
    let theirs = app(&t, someone, 4);
    let foreign = app(&other, owner, 5);
    let mut tx = begin(store).await;
    for a in mine.iter().chain([&theirs, &foreign]) {
        tx.insert_app(a).await.unwrap();
    }
    assert_conflict(tx.insert_app(&mine[0]).await, "the same client id twice");
    tx.commit().await.unwrap();

    let of_owner = |p: CredentialPage| AppQuery {
        owner: Some(owner),
        page: p,
    };
    each_session!(store, tx, {
        for a in mine.iter().chain([&theirs, &foreign]) {
            assert_eq!(tx.get_app(a.client_id).await.unwrap().as_ref(), Some(a));
        }
        assert_eq!(tx.get_app(ClientId::new()).await.unwrap(), None);
        let newest = tx
            .list_apps(t.org, &of_owner(page(CredentialSort::Created, true, 10)))
            .await
            .unwrap();
        assert_eq!(names(&newest), ["app-3", "app-2", "app-1"]);
        let first = tx
            .list_apps(t.org, &of_owner(page(CredentialSort::Created, true, 2)))
            .await
            .unwrap();
        assert_eq!(names(&first), ["app-3", "app-2"]);
        let mut rest = page(CredentialSort::Created, true, 2);
        rest.after = Some(Key {
            sort_at: first[1].created_at,
            id: first[1].client_id.uuid(),
        });
        let rest = tx.list_apps(t.org, &of_owner(rest)).await.unwrap();
        assert_eq!(names(&rest), ["app-1"]);
        let mut skipped = page(CredentialSort::Created, true, 2);
        skipped.offset = 1;
        let skipped = tx.list_apps(t.org, &of_owner(skipped)).await.unwrap();
        assert_eq!(names(&skipped), ["app-2", "app-1"]);
        let by_update = tx
            .list_apps(t.org, &of_owner(page(CredentialSort::Updated, false, 10)))
            .await
            .unwrap();
        assert_eq!(names(&by_update), ["app-3", "app-2", "app-1"]);
        let mut between = page(CredentialSort::Created, false, 10);
        between.created_after = Some(minute(1));
        between.created_before = Some(minute(3));
        let between = tx.list_apps(t.org, &of_owner(between)).await.unwrap();
        assert_eq!(names(&between), ["app-2"]);
        let everyone = AppQuery {
            owner: None,
            page: page(CredentialSort::Created, false, 10),
        };
        let all = tx.list_apps(t.org, &everyone).await.unwrap();
        assert_eq!(names(&all), ["app-1", "app-2", "app-3", "app-4"]);
        let elsewhere = tx.list_apps(other.org, &everyone).await.unwrap();
        assert_eq!(elsewhere, vec![foreign.clone()]);
    });
}

pub async fn access_tokens_revoke_with_their_app<S: Store>(store: &S) {
    let t = tenant(store).await;
    let (ann, bob) = (UserId::new(), UserId::new());
    let a = app(&t, ann, 1);
    let kept = app(&t, ann, 2);
    let first = access_token(&a, ann, 10);
    let mut second = access_token(&a, bob, 20);
    second.scope = AccessScope::Read;
    let elsewhere = access_token(&kept, ann, 30);
    let mut tx = begin(store).await;
    tx.insert_app(&a).await.unwrap();
    tx.insert_app(&kept).await.unwrap();
    for token in [&first, &second, &elsewhere] {
        tx.insert_access_token(token).await.unwrap();
    }
    let mut same_hash = access_token(&a, ann, 40);
    same_hash.hash = first.hash.clone();
    assert_conflict(
        tx.insert_access_token(&same_hash).await,
        "a token's hash twice",
    );
    tx.commit().await.unwrap();

    let of_app = |user: Option<UserId>| AccessTokenQuery {
        client_id: a.client_id,
        user,
        page: page(CredentialSort::Created, false, 10),
    };
    each_session!(store, tx, {
        assert_eq!(
            tx.get_access_token(first.id).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(
            tx.get_access_token_by_hash(&second.hash).await.unwrap(),
            Some(second.clone())
        );
        assert_eq!(tx.get_access_token_by_hash("nothing").await.unwrap(), None);
        assert_eq!(
            tx.list_access_tokens(t.org, &of_app(None)).await.unwrap(),
            vec![first.clone(), second.clone()]
        );
        assert_eq!(
            tx.list_access_tokens(t.org, &of_app(Some(bob)))
                .await
                .unwrap(),
            vec![second.clone()]
        );
    });

    let mut tx = begin(store).await;
    assert!(tx.revoke_access_token(first.id, minute(50)).await.unwrap());
    assert!(!tx.revoke_access_token(first.id, minute(51)).await.unwrap());
    assert!(tx.delete_app(a.client_id, minute(60)).await.unwrap());
    assert!(!tx.delete_app(a.client_id, minute(61)).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    let deleted = tx.get_app(a.client_id).await.unwrap().unwrap();
    assert_eq!(deleted.deleted_at, Some(minute(60)));
    assert_eq!(deleted.updated_at, minute(60));
    let revoked = tx.get_access_token(first.id).await.unwrap().unwrap();
    assert_eq!(
        revoked.revoked_at,
        Some(minute(50)),
        "a token revoked before keeps its time"
    );
    let with_app = tx.get_access_token(second.id).await.unwrap().unwrap();
    assert_eq!(with_app.revoked_at, Some(minute(60)));
    assert_eq!(with_app.updated_at, minute(60));
    assert_eq!(
        tx.get_access_token(elsewhere.id).await.unwrap(),
        Some(elsewhere),
        "another app's tokens live on"
    );
    assert_eq!(tx.get_app(kept.client_id).await.unwrap(), Some(kept));
}

//! The pure security core of membership: folding a log and judging a signer at a time.

use std::collections::BTreeMap;

use envsync_core::role::Role;
use envsync_crypto::Identity;

use super::{Roster, SignerStanding, fold, fold_after, fold_continuing};
use crate::records::{
    FORMAT, MembershipAction, MembershipBody, MembershipEvent, Pin, Seal, Signed,
};

struct Log {
    events: Vec<MembershipEvent>,
}

impl Log {
    fn new(owner: &Identity) -> Self {
        let mut log = Self { events: Vec::new() };
        log.push(
            owner,
            owner,
            MembershipAction::Add,
            Role::Owner,
            BTreeMap::new(),
        );
        log
    }

    fn push(
        &mut self,
        actor: &Identity,
        member: &Identity,
        action: MembershipAction,
        role: Role,
        heads: BTreeMap<String, Pin>,
    ) {
        let body = MembershipBody {
            format: FORMAT,
            project: "app".into(),
            number: self.events.len() as u64 + 1,
            parent_digest: self.events.last().map(Signed::digest),
            action,
            member: member.member_key().to_string(),
            name: member.name().into(),
            role,
            environments: None,
            heads,
            actor: actor.member_key().to_string(),
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        self.events.push(Signed::sign(body, actor));
    }
}

/// Changes the first character of `event`'s signature: the same signed bytes, a signature
/// that no longer verifies.
fn forge_signature(event: &mut MembershipEvent) {
    let signature = &mut event.signature;
    let first = if signature.starts_with('A') { "B" } else { "A" };
    signature.replace_range(0..1, first);
}

fn heads(number: u64) -> BTreeMap<String, Pin> {
    BTreeMap::from([(
        "development".to_owned(),
        Pin {
            number,
            digest: format!("{number:064x}"),
        },
    )])
}

#[test]
fn a_removed_writer_counts_only_up_to_the_head_their_removal_pinned() {
    let (alice, bob) = (Identity::generate("alice"), Identity::generate("bob"));
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    log.push(
        &alice,
        &bob,
        MembershipAction::Remove,
        Role::Writer,
        heads(5),
    );
    let roster = fold("app", &log.events).unwrap();
    let bob = roster.find(bob.member_key().as_str()).unwrap();
    assert!(!bob.is_active());
    assert_eq!(
        bob.standing_for("development", 4, 2),
        Ok(SignerStanding::EndedAt(heads(5)["development"].clone()))
    );
    assert!(
        bob.standing_for("development", 6, 2).is_err(),
        "after the pinned head"
    );
    assert!(
        bob.standing_for("development", 4, 1).is_err(),
        "before he was added"
    );
    assert!(
        bob.standing_for("development", 4, 3).is_err(),
        "claims the removal's entry"
    );
    assert_eq!(roster.pinned_heads["development"].number, 5);
}

#[test]
fn a_demoted_writer_keeps_the_versions_signed_as_writer() {
    let (alice, bob) = (Identity::generate("alice"), Identity::generate("bob"));
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    log.push(&alice, &bob, MembershipAction::Add, Role::Reader, heads(3));
    let roster = fold("app", &log.events).unwrap();
    let member = roster.find(bob.member_key().as_str()).unwrap();
    assert!(member.is_active());
    assert_eq!(member.role, Role::Reader);
    assert!(matches!(
        member.standing_for("development", 3, 2),
        Ok(SignerStanding::EndedAt(_))
    ));
    assert!(
        member.standing_for("development", 4, 3).is_err(),
        "a reader now"
    );
    assert!(
        member.standing_for("development", 4, 2).is_err(),
        "backdated"
    );
}

#[test]
fn a_log_cut_or_rewritten_does_not_hold_the_entries_versions_name() {
    let (alice, bob) = (Identity::generate("alice"), Identity::generate("bob"));
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    let full = fold("app", &log.events).unwrap();
    let tip = full.tip().unwrap();
    assert_eq!(tip.number, 2);
    let cut = fold("app", &log.events[..1]).unwrap();
    assert!(full.holds(&tip));
    assert!(!cut.holds(&tip));
    let forged = Pin {
        number: 2,
        digest: "0".repeat(64),
    };
    assert!(!full.holds(&forged));
}

#[test]
fn only_owners_sign_entries_and_the_chain_cannot_be_reordered() {
    let (alice, bob, carol) = (
        Identity::generate("alice"),
        Identity::generate("bob"),
        Identity::generate("carol"),
    );
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    log.push(&bob, &carol, MembershipAction::Add, Role::Owner, heads(1));
    let error = fold("app", &log.events).unwrap_err().to_string();
    assert!(error.contains("not an owner"), "{error}");

    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    log.push(
        &alice,
        &carol,
        MembershipAction::Add,
        Role::Writer,
        heads(1),
    );
    log.events.swap(1, 2);
    let error = fold("app", &log.events).unwrap_err().to_string();
    assert!(error.contains("missing, reordered or replaced"), "{error}");
}

#[test]
fn a_name_two_members_share_is_ambiguous() {
    let alice = Identity::generate("alice");
    let (bob, other) = (Identity::generate("bob"), Identity::generate("bob"));
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    log.push(
        &alice,
        &other,
        MembershipAction::Add,
        Role::Writer,
        heads(1),
    );
    let roster = fold("app", &log.events).unwrap();
    let error = roster.lookup("bob").unwrap_err().to_string();
    assert!(error.contains(&bob.member_key().fingerprint()), "{error}");
    assert!(error.contains(&other.member_key().fingerprint()), "{error}");
}

/// The ledger's pin lets a run skip the signatures it checked before, and nothing else: a
/// forged signature after the pin, or anywhere when the pin no longer matches, is refused.
#[test]
fn a_verified_prefix_skips_only_signatures_the_ledger_vouches_for() {
    let (alice, bob, carol) = (
        Identity::generate("alice"),
        Identity::generate("bob"),
        Identity::generate("carol"),
    );
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Owner, heads(1));
    log.push(&bob, &carol, MembershipAction::Add, Role::Writer, heads(2));
    let pin = |number: u64| Pin {
        number,
        digest: log.events[number as usize - 1].digest(),
    };
    let (at_two, at_three) = (pin(2), pin(3));
    let sound = fold_after("app", &log.events, Some(&at_two)).unwrap();
    assert_eq!(sound.next_number, 4);

    // Entry 2's signature was checked when the ledger pinned entry 2 (or a later one).
    let mut forged = log.events.clone();
    forge_signature(&mut forged[1]);
    assert!(fold_after("app", &forged, Some(&at_two)).is_ok());
    assert!(fold_after("app", &forged, Some(&at_three)).is_ok());
    assert!(
        fold("app", &forged).is_err(),
        "a fresh look checks every signature"
    );

    // After the pin, every signature counts.
    let mut forged = log.events.clone();
    forge_signature(&mut forged[2]);
    assert!(fold_after("app", &forged, Some(&at_two)).is_err());

    // A pin the log no longer holds vouches for nothing.
    let stale = Pin {
        number: 2,
        digest: "0".repeat(64),
    };
    let mut forged = log.events.clone();
    forge_signature(&mut forged[1]);
    assert!(fold_after("app", &forged, Some(&stale)).is_err());

    // A changed entry inside the pinned prefix changes the digests after it.
    let mut rewritten = log.events.clone();
    rewritten[0].body.created_at = "2026-02-02T00:00:00Z".into();
    assert!(fold_after("app", &rewritten, Some(&at_three)).is_err());
}

/// The ledger's snapshot, read back, continues exactly as the whole log folds, and every
/// entry after it is verified in full.
#[test]
fn a_snapshot_continues_as_the_whole_log_folds() {
    let (alice, bob, carol) = (
        Identity::generate("alice"),
        Identity::generate("bob"),
        Identity::generate("carol"),
    );
    let mut log = Log::new(&alice);
    log.push(&alice, &bob, MembershipAction::Add, Role::Writer, heads(1));
    let saved = serde_json::to_vec(&fold("app", &log.events).unwrap()).unwrap();
    log.push(&alice, &carol, MembershipAction::Add, Role::Owner, heads(2));
    log.push(
        &carol,
        &bob,
        MembershipAction::Remove,
        Role::Writer,
        heads(3),
    );
    let snapshot: Roster = serde_json::from_slice(&saved).unwrap();
    let continued = fold_continuing("app", snapshot.clone(), &log.events[2..]).unwrap();
    let whole = fold("app", &log.events).unwrap();
    assert_eq!(continued.digests, whole.digests);
    assert_eq!(continued.tip(), whole.tip());
    assert_eq!(continued.pinned_heads, whole.pinned_heads);
    let bob_key = bob.member_key();
    let removed = |roster: &Roster| roster.find(bob_key.as_str()).unwrap().removed_in;
    assert_eq!(removed(&continued), Some(4));
    assert_eq!(removed(&continued), removed(&whole));

    // A forged signature after the snapshot, or an entry that does not chain to it, is refused.
    let mut forged = log.events[2..].to_vec();
    forge_signature(&mut forged[0]);
    assert!(fold_continuing("app", snapshot.clone(), &forged).is_err());
    assert!(fold_continuing("app", snapshot, &log.events[3..]).is_err());
}

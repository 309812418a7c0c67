//! Who is a moderator in Matrix: anyone listed in `moderators`, and anyone
//! whose power level in the room where they type a moderator command
//! reaches `moderator_power_level`.
//!
//! Power levels belong to a room, so a member can moderate one room and not
//! another; the list is for moderators who hold no rank in the rooms where
//! they happen to ask. What the commands do is platform-neutral and lives
//! in `crate::service::moderation`.

use super::MatrixConfig;
use matrix_sdk::Room;
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::ruma::{Int, OwnedUserId, UserId};

pub(super) struct Moderators {
    listed: Vec<OwnedUserId>,
    power_level: Int,
}

impl Moderators {
    pub(super) fn new(config: &MatrixConfig) -> Moderators {
        Moderators {
            listed: config.moderators.clone(),
            power_level: Int::new_saturating(config.moderator_power_level),
        }
    }

    /// Whether `user` may run moderator commands in `room`.
    pub(super) async fn include(&self, room: &Room, user: &UserId) -> bool {
        if self.listed.iter().any(|listed| listed == user) {
            return true;
        }
        // The levels come from the bot's own store, kept current by sync,
        // so a check costs no request.
        match room.power_levels().await {
            Ok(levels) => reaches(&levels.for_user(user), self.power_level),
            Err(e) => {
                // Not knowing the levels must never promote anyone.
                tracing::warn!(room = %room.room_id(), error = %e, "cannot read the room's power levels");
                false
            }
        }
    }
}

/// Whether `level` is at least `bar`; a room creator's "infinite" level
/// (room version 12 on) reaches any bar, as ruma orders it.
fn reaches(level: &UserPowerLevel, bar: Int) -> bool {
    *level >= bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_is_inclusive_and_creators_always_reach_it() {
        let bar = Int::from(50);
        assert!(reaches(&UserPowerLevel::Int(Int::from(50)), bar));
        assert!(reaches(&UserPowerLevel::Int(Int::from(100)), bar));
        assert!(!reaches(&UserPowerLevel::Int(Int::from(49)), bar));
        assert!(!reaches(&UserPowerLevel::Int(Int::from(0)), bar));
        assert!(reaches(&UserPowerLevel::Infinite, bar));
    }

    #[test]
    fn out_of_range_bars_saturate_instead_of_failing() {
        let config = {
            let mut c = MatrixConfig::new("https://matrix.example.org");
            c.moderator_power_level = i64::MAX;
            c
        };
        let moderators = Moderators::new(&config);
        assert!(!reaches(
            &UserPowerLevel::Int(Int::from(100)),
            moderators.power_level
        ));
    }
}

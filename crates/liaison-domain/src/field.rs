//! The names of the domain's fields and request parameters. Rules and errors name them with
//! these types; each face spells them its own way (Siro `startTime`, v2 `start_at`, unified
//! `start_time`) when it renders an error. A message may name one as `{start_time}` (the
//! field's domain name in braces); the face puts its own spelling there.

/// A field of a synced record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Connection,
    ExternalId,
    RecordingId,
    Account,
    Contact,
    Lead,
    Opportunity,
    Owner,
    EngagementType,
    /// The activity type of the record's engagement type.
    ActivityType,
    /// An engagement's subject; the name of the other kinds.
    Title,
    Direction,
    IsPrivate,
    StartTime,
    EndTime,
    CreatedAt,
    UpdatedAt,
    RemoteCreatedAt,
    RemoteUpdatedAt,
    DeletedAt,
}

impl Field {
    pub const ALL: [Field; 21] = [
        Field::Id,
        Field::Connection,
        Field::ExternalId,
        Field::RecordingId,
        Field::Account,
        Field::Contact,
        Field::Lead,
        Field::Opportunity,
        Field::Owner,
        Field::EngagementType,
        Field::ActivityType,
        Field::Title,
        Field::Direction,
        Field::IsPrivate,
        Field::StartTime,
        Field::EndTime,
        Field::CreatedAt,
        Field::UpdatedAt,
        Field::RemoteCreatedAt,
        Field::RemoteUpdatedAt,
        Field::DeletedAt,
    ];

    /// The field's domain name (snake_case), as messages name it in braces.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            Id => "id",
            Connection => "connection",
            ExternalId => "external_id",
            RecordingId => "recording_id",
            Account => "account",
            Contact => "contact",
            Lead => "lead",
            Opportunity => "opportunity",
            Owner => "owner",
            EngagementType => "engagement_type",
            ActivityType => "activity_type",
            Title => "title",
            Direction => "direction",
            IsPrivate => "is_private",
            StartTime => "start_time",
            EndTime => "end_time",
            CreatedAt => "created_at",
            UpdatedAt => "updated_at",
            RemoteCreatedAt => "remote_created_at",
            RemoteUpdatedAt => "remote_updated_at",
            DeletedAt => "deleted_at",
        }
    }

    /// `{name}`: how a message names the field.
    pub fn placeholder(self) -> String {
        format!("{{{}}}", self.name())
    }
}

/// A field of a recording, as its inputs carry it (recordings are not synced records, so
/// they name their own fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordingField {
    Id,
    /// The workspace user who recorded it.
    User,
    /// The deep link the app was opened with.
    DeepLink,
    /// The engagement it is linked to.
    Engagement,
    /// The opportunity it is linked to.
    Opportunity,
    /// A CRM object a create names.
    CrmObjects,
    Duration,
    Latitude,
    Longitude,
    Transcript,
    Utterances,
    /// A link's target: by id, or by external id and connection.
    LinkTarget,
}

impl RecordingField {
    pub fn name(self) -> &'static str {
        use RecordingField::*;
        match self {
            Id => "id",
            User => "user",
            DeepLink => "deep_link",
            Engagement => "engagement",
            Opportunity => "opportunity",
            CrmObjects => "crm_objects",
            Duration => "duration",
            Latitude => "latitude",
            Longitude => "longitude",
            Transcript => "transcript",
            Utterances => "utterances",
            LinkTarget => "link_target",
        }
    }
}

/// A field of an OAuth app or of a user access token, as their inputs carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppField {
    /// The app's name.
    Name,
    /// The workspace user who owns the app.
    Owner,
    /// The organization the app belongs to.
    Organization,
    /// The app's client secret, as a token request proves it.
    ClientSecret,
    /// The workspace user a token acts for.
    User,
    /// What a token may do: read, or read and write.
    Scope,
}

impl AppField {
    pub fn name(self) -> &'static str {
        use AppField::*;
        match self {
            Name => "name",
            Owner => "owner",
            Organization => "organization",
            ClientSecret => "client_secret",
            User => "user",
            Scope => "scope",
        }
    }
}

/// A field of a mobile event, as its input carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MobileEventField {
    /// The workspace user it is of.
    User,
    /// The recording it is of.
    Recording,
    /// What happened, in the shape its code fixes.
    Payload,
}

impl MobileEventField {
    pub fn name(self) -> &'static str {
        match self {
            MobileEventField::User => "user",
            MobileEventField::Recording => "recording",
            MobileEventField::Payload => "payload",
        }
    }
}

/// A request parameter that rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// Where a page of a list starts: after this record.
    PageAfter,
    /// Where a page of a list ends: before this record.
    PageBefore,
}

impl Param {
    pub fn name(self) -> &'static str {
        match self {
            Param::PageAfter => "page_after",
            Param::PageBefore => "page_before",
        }
    }
}

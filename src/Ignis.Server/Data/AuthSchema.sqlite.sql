CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);

BEGIN TRANSACTION;
CREATE TABLE "AspNetRoles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetRoles" PRIMARY KEY,
    "Name" TEXT NULL,
    "NormalizedName" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL
);

CREATE TABLE "AspNetUsers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetUsers" PRIMARY KEY,
    "FhirUser" TEXT NULL,
    "UserName" TEXT NULL,
    "NormalizedUserName" TEXT NULL,
    "Email" TEXT NULL,
    "NormalizedEmail" TEXT NULL,
    "EmailConfirmed" INTEGER NOT NULL,
    "PasswordHash" TEXT NULL,
    "SecurityStamp" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL,
    "PhoneNumber" TEXT NULL,
    "PhoneNumberConfirmed" INTEGER NOT NULL,
    "TwoFactorEnabled" INTEGER NOT NULL,
    "LockoutEnd" TEXT NULL,
    "LockoutEnabled" INTEGER NOT NULL,
    "AccessFailedCount" INTEGER NOT NULL
);

CREATE TABLE "AuthLaunches" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AuthLaunches" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "ClientId" TEXT NULL,
    "Patient" TEXT NULL,
    "Encounter" TEXT NULL,
    "FhirContext" TEXT NULL,
    "CreatedAt" TEXT NOT NULL,
    "ExpiresAt" TEXT NOT NULL,
    "UsedAt" TEXT NULL
);

CREATE TABLE "AuthSessions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AuthSessions" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "EndedAt" TEXT NULL
);

CREATE TABLE "DataProtectionKeys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_DataProtectionKeys" PRIMARY KEY AUTOINCREMENT,
    "FriendlyName" TEXT NULL,
    "Xml" TEXT NULL
);

CREATE TABLE "OpenIddictApplications" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictApplications" PRIMARY KEY,
    "ApplicationType" TEXT NULL,
    "ClientId" TEXT NULL,
    "ClientSecret" TEXT NULL,
    "ClientType" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "ConsentType" TEXT NULL,
    "DisplayName" TEXT NULL,
    "DisplayNames" TEXT NULL,
    "JsonWebKeySet" TEXT NULL,
    "Permissions" TEXT NULL,
    "PostLogoutRedirectUris" TEXT NULL,
    "Properties" TEXT NULL,
    "RedirectUris" TEXT NULL,
    "Requirements" TEXT NULL,
    "Settings" TEXT NULL
);

CREATE TABLE "OpenIddictScopes" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictScopes" PRIMARY KEY,
    "ConcurrencyToken" TEXT NULL,
    "Description" TEXT NULL,
    "Descriptions" TEXT NULL,
    "DisplayName" TEXT NULL,
    "DisplayNames" TEXT NULL,
    "Name" TEXT NULL,
    "Properties" TEXT NULL,
    "Resources" TEXT NULL
);

CREATE TABLE "AspNetRoleClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetRoleClaims" PRIMARY KEY AUTOINCREMENT,
    "RoleId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetRoleClaims_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE
);

CREATE TABLE "AspNetUserClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetUserClaims" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetUserClaims_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "AspNetUserLogins" (
    "LoginProvider" TEXT NOT NULL,
    "ProviderKey" TEXT NOT NULL,
    "ProviderDisplayName" TEXT NULL,
    "UserId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserLogins" PRIMARY KEY ("LoginProvider", "ProviderKey"),
    CONSTRAINT "FK_AspNetUserLogins_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "AspNetUserRoles" (
    "UserId" TEXT NOT NULL,
    "RoleId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserRoles" PRIMARY KEY ("UserId", "RoleId"),
    CONSTRAINT "FK_AspNetUserRoles_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AspNetUserRoles_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "AspNetUserTokens" (
    "UserId" TEXT NOT NULL,
    "LoginProvider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Value" TEXT NULL,
    CONSTRAINT "PK_AspNetUserTokens" PRIMARY KEY ("UserId", "LoginProvider", "Name"),
    CONSTRAINT "FK_AspNetUserTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "OpenIddictAuthorizations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictAuthorizations" PRIMARY KEY,
    "ApplicationId" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "CreationDate" TEXT NULL,
    "Properties" TEXT NULL,
    "Scopes" TEXT NULL,
    "Status" TEXT NULL,
    "Subject" TEXT NULL,
    "Type" TEXT NULL,
    CONSTRAINT "FK_OpenIddictAuthorizations_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id")
);

CREATE TABLE "OpenIddictTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictTokens" PRIMARY KEY,
    "ApplicationId" TEXT NULL,
    "AuthorizationId" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "CreationDate" TEXT NULL,
    "ExpirationDate" TEXT NULL,
    "Payload" TEXT NULL,
    "Properties" TEXT NULL,
    "RedemptionDate" TEXT NULL,
    "ReferenceId" TEXT NULL,
    "Status" TEXT NULL,
    "Subject" TEXT NULL,
    "Type" TEXT NULL,
    CONSTRAINT "FK_OpenIddictTokens_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id"),
    CONSTRAINT "FK_OpenIddictTokens_OpenIddictAuthorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES "OpenIddictAuthorizations" ("Id")
);

CREATE INDEX "IX_AspNetRoleClaims_RoleId" ON "AspNetRoleClaims" ("RoleId");

CREATE UNIQUE INDEX "RoleNameIndex" ON "AspNetRoles" ("NormalizedName");

CREATE INDEX "IX_AspNetUserClaims_UserId" ON "AspNetUserClaims" ("UserId");

CREATE INDEX "IX_AspNetUserLogins_UserId" ON "AspNetUserLogins" ("UserId");

CREATE INDEX "IX_AspNetUserRoles_RoleId" ON "AspNetUserRoles" ("RoleId");

CREATE INDEX "EmailIndex" ON "AspNetUsers" ("NormalizedEmail");

CREATE UNIQUE INDEX "UserNameIndex" ON "AspNetUsers" ("NormalizedUserName");

CREATE INDEX "IX_AuthLaunches_ExpiresAt" ON "AuthLaunches" ("ExpiresAt");

CREATE INDEX "IX_AuthSessions_UserId" ON "AuthSessions" ("UserId");

CREATE UNIQUE INDEX "IX_OpenIddictApplications_ClientId" ON "OpenIddictApplications" ("ClientId");

CREATE INDEX "IX_OpenIddictAuthorizations_ApplicationId_Status_Subject_Type" ON "OpenIddictAuthorizations" ("ApplicationId", "Status", "Subject", "Type");

CREATE UNIQUE INDEX "IX_OpenIddictScopes_Name" ON "OpenIddictScopes" ("Name");

CREATE INDEX "IX_OpenIddictTokens_ApplicationId_Status_Subject_Type" ON "OpenIddictTokens" ("ApplicationId", "Status", "Subject", "Type");

CREATE INDEX "IX_OpenIddictTokens_AuthorizationId" ON "OpenIddictTokens" ("AuthorizationId");

CREATE UNIQUE INDEX "IX_OpenIddictTokens_ReferenceId" ON "OpenIddictTokens" ("ReferenceId");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261123203324_AuthInitial', '10.0.14');

COMMIT;

BEGIN TRANSACTION;
ALTER TABLE "AspNetUsers" ADD "Active" INTEGER NOT NULL DEFAULT 1;

ALTER TABLE "AspNetUsers" ADD "Created" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00';

ALTER TABLE "AspNetUsers" ADD "DisplayName" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "EmailsJson" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "ExternalId" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "FamilyName" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "FormattedName" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "GivenName" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "HonorificPrefix" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "HonorificSuffix" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "MiddleName" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "Modified" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00';

ALTER TABLE "AspNetUsers" ADD "PhoneNumbersJson" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "ScimAttributesJson" TEXT NULL;

ALTER TABLE "AspNetUsers" ADD "Version" INTEGER NOT NULL DEFAULT 1;

ALTER TABLE "AspNetRoles" ADD "ScimCreated" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00';

ALTER TABLE "AspNetRoles" ADD "ScimModified" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00';

ALTER TABLE "AspNetRoles" ADD "ScimVersion" INTEGER NOT NULL DEFAULT 1;

UPDATE AspNetUsers SET Created = strftime('%Y-%m-%d %H:%M:%f', 'now'), Modified = strftime('%Y-%m-%d %H:%M:%f', 'now');

UPDATE AspNetRoles SET ScimCreated = strftime('%Y-%m-%d %H:%M:%f', 'now'), ScimModified = strftime('%Y-%m-%d %H:%M:%f', 'now');

CREATE INDEX "IX_AspNetUsers_ExternalId" ON "AspNetUsers" ("ExternalId");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261123223743_Scim', '10.0.14');

COMMIT;

BEGIN TRANSACTION;
ALTER TABLE "AuthSessions" ADD "IpAddress" TEXT NULL;

ALTER TABLE "AuthSessions" ADD "LastSeenAt" TEXT NULL;

ALTER TABLE "AuthSessions" ADD "UserAgent" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261123224938_Pages', '10.0.14');

COMMIT;

BEGIN TRANSACTION;
CREATE TABLE "AuthClientAssertionJtis" (
    "Key" TEXT NOT NULL CONSTRAINT "PK_AuthClientAssertionJtis" PRIMARY KEY,
    "ExpiresAt" INTEGER NOT NULL
);

CREATE INDEX "IX_AuthClientAssertionJtis_ExpiresAt" ON "AuthClientAssertionJtis" ("ExpiresAt");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261123233041_BackendServices', '10.0.14');

COMMIT;

BEGIN TRANSACTION;
CREATE TABLE "AuthRateCounters" (
    "Key" TEXT NOT NULL CONSTRAINT "PK_AuthRateCounters" PRIMARY KEY,
    "WindowStart" INTEGER NOT NULL,
    "Count" INTEGER NOT NULL
);

CREATE TABLE "AuthSigningKeys" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AuthSigningKeys" PRIMARY KEY,
    "Kind" TEXT NOT NULL,
    "Material" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "ActivatesAt" TEXT NOT NULL
);

CREATE INDEX "IX_AuthRateCounters_WindowStart" ON "AuthRateCounters" ("WindowStart");

CREATE INDEX "IX_AuthSigningKeys_Kind_ActivatesAt" ON "AuthSigningKeys" ("Kind", "ActivatesAt");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124010419_Cluster', '10.0.14');

COMMIT;


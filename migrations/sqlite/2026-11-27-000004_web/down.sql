DROP TABLE web_sessions;
DROP TABLE password_credentials;

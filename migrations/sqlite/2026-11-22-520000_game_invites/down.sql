DROP TABLE game_invites;

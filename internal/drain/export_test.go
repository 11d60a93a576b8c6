package drain

// Stays is stays, for the tests.
var Stays = stays

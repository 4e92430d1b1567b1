-- A random token given with each answer: feedback on a question needs it,
-- since query ids are consecutive and anyone could otherwise mark anyone's
-- answer unhelpful. Questions recorded before have none.
ALTER TABLE queries ADD COLUMN feedback_token TEXT NOT NULL DEFAULT '';

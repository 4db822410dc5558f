public enum BulwarkTestingPlaceholder {}

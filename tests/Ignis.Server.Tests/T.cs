public class T { [Xunit.Fact] public void Works() => Shouldly.ShouldBeBooleanExtensions.ShouldBeTrue(true); }
